package reference

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/reference/mailstore"
	"github.com/mailcheck/mailcheck/reference/pop3server"
)

// pop3Backend serves users' INBOXes to the POP3 server.
//
// POP3 and IMAP share the mailbox: a POP3 session works on the snapshot it
// took at login (RFC 1939 numbering never changes within a session); a
// message that IMAP expunges meanwhile gets -ERR on RETR; the deletions of
// POP3's UPDATE state are ordinary expunges, so IMAP sessions with the INBOX
// selected see EXPUNGE responses for them. RETR and TOP do not set \Seen.
type pop3Backend struct {
	router *router
	store  *mailstore.Store
}

func (b pop3Backend) Authenticate(ctx context.Context, username, password string) (string, error) {
	user, err := b.router.Authenticate(ctx, username, password)
	if err != nil {
		return user, pop3server.ErrAuthFailed
	}
	return user, nil
}

func (b pop3Backend) OpenMaildrop(_ context.Context, user string) (pop3server.Maildrop, error) {
	mb, err := b.store.Inbox(user)
	if err != nil {
		return nil, err
	}
	msgs, err := mb.Messages()
	if err != nil {
		return nil, err
	}
	// The UIDL is "UIDVALIDITY.UID": the same in every session and after
	// restarts, and never given to another message (UIDs are never reused).
	prefix := strconv.FormatUint(uint64(mb.UIDValidity()), 10) + "."
	d := &maildrop{mb: mb, prefix: prefix, infos: make([]pop3server.MessageInfo, len(msgs))}
	for i, m := range msgs {
		d.infos[i] = pop3server.MessageInfo{UID: prefix + strconv.FormatUint(uint64(m.UID), 10), Size: m.Size}
	}
	return d, nil
}

type maildrop struct {
	mb     *mailstore.Mailbox
	prefix string
	infos  []pop3server.MessageInfo
}

func (d *maildrop) Messages() []pop3server.MessageInfo { return d.infos }

func (d *maildrop) uid(uidl string) (uint32, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(uidl, d.prefix), 10, 32)
	if err != nil || !strings.HasPrefix(uidl, d.prefix) {
		return 0, errors.New("no such message")
	}
	return uint32(n), nil
}

func (d *maildrop) Open(uidl string) (io.ReadCloser, error) {
	uid, err := d.uid(uidl)
	if err != nil {
		return nil, err
	}
	r, _, err := d.mb.Open(uid)
	return r, err
}

func (d *maildrop) Delete(uidls []string) error {
	uids := make([]uint32, 0, len(uidls))
	for _, u := range uidls {
		if uid, err := d.uid(u); err == nil {
			uids = append(uids, uid)
		}
	}
	_, err := d.mb.Expunge(uids)
	return err
}

func (d *maildrop) Close() error { return nil }
