package fetch

import (
	"context"
	"fmt"
	"strconv"

	"github.com/mailcheck/mailcheck/agent/imapfetch"
	"github.com/mailcheck/mailcheck/agent/session"
)

// imapMailbox is an IMAP mailbox.
type imapMailbox struct {
	cl *imapfetch.Client
	o  Options
	// narrow are header fields the server's SEARCH may use to narrow the
	// listing before the exact comparison here.
	narrow []imapfetch.HeaderField
}

func openIMAP(ctx context.Context, o Options) (Mailbox, error) {
	cl, err := imapfetch.Dial(ctx, o.Options)
	if err != nil {
		return nil, err
	}
	mailbox := o.Mailbox
	if mailbox == "" {
		mailbox = "INBOX"
	}
	if err := cl.Select(mailbox, !o.ReadWrite); err != nil {
		cl.Logout()
		return nil, err
	}
	return &imapMailbox{cl: cl, o: o}, nil
}

// Narrow lets the server's SEARCH HEADER (a substring match, RFC 9051
// §6.4.4) shrink the listing; the caller still compares exactly.
func (m *imapMailbox) Narrow(fields []Field) {
	m.narrow = nil
	for _, f := range fields {
		if isASCII(f.Name) && isASCII(f.Value) && !isSubject(f.Name) {
			m.narrow = append(m.narrow, imapfetch.HeaderField{Name: f.Name, Value: f.Value})
		}
	}
}

func (m *imapMailbox) Messages(only string) ([]Message, error) {
	var uids []uint32
	if only != "" {
		uid, err := strconv.ParseUint(only, 10, 32)
		if err != nil || uid == 0 {
			return nil, session.Failf(session.Mailbox, "%q is not an IMAP UID", only)
		}
		uids = []uint32{uint32(uid)}
	} else {
		var err error
		uids, err = m.cl.Search(imapfetch.Criteria{Since: m.o.Since, Unseen: m.o.Unseen, Header: m.narrow})
		if err != nil {
			return nil, err
		}
	}
	entries, err := m.cl.Headers(uids)
	if err != nil {
		return nil, err
	}
	ms := make([]Message, 0, len(entries))
	for _, e := range entries {
		id := strconv.FormatUint(uint64(e.UID), 10)
		ms = append(ms, Message{
			ID: id, Key: fmt.Sprintf("%d.%d", m.cl.UIDValidity, e.UID), FileName: id,
			Size: e.Size, Header: headerSection(e.Header), num: e.UID,
		})
	}
	return ms, nil
}

func (m *imapMailbox) ReadHeader(msg *Message) error { return nil }

func (m *imapMailbox) Retrieve(msg Message) ([]byte, error) { return m.cl.Retrieve(msg.num) }

func (m *imapMailbox) Delete(ms []Message) error {
	uids := make([]uint32, len(ms))
	for i, msg := range ms {
		uids[i] = msg.num
	}
	return m.cl.Delete(uids)
}

func (m *imapMailbox) Close() error {
	m.cl.Logout()
	return nil
}

func (m *imapMailbox) Abort() { m.cl.Close() }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
