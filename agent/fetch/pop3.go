package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/agent/pop3fetch"
)

// pop3Mailbox is a maildrop over POP3.
type pop3Mailbox struct{ cl *pop3fetch.Client }

func openPOP3(ctx context.Context, o Options) (Mailbox, error) {
	cl, err := pop3fetch.Dial(ctx, o.Options)
	if err != nil {
		return nil, err
	}
	return &pop3Mailbox{cl: cl}, nil
}

func (p *pop3Mailbox) Messages(only string) ([]Message, error) {
	entries, err := p.cl.List()
	if err != nil {
		return nil, err
	}
	var ms []Message
	for _, e := range entries {
		id := strconv.Itoa(e.Num)
		if only != "" && only != id {
			continue
		}
		m := Message{ID: id, Key: e.UIDL, FileName: id, Size: e.Size, num: uint32(e.Num)}
		if e.UIDL != "" {
			m.FileName = safeFileName(e.UIDL)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func (p *pop3Mailbox) ReadHeader(m *Message) error {
	if m.Header != nil {
		return nil
	}
	h, err := p.cl.Header(int(m.num))
	if err != nil {
		return err
	}
	m.Header = headerSection(h)
	return nil
}

func (p *pop3Mailbox) Retrieve(m Message) ([]byte, error) { return p.cl.Retrieve(int(m.num)) }

func (p *pop3Mailbox) Delete(ms []Message) error {
	for _, m := range ms {
		if err := p.cl.Delete(int(m.num)); err != nil {
			return err
		}
	}
	return nil
}

func (p *pop3Mailbox) Close() error { return p.cl.Quit() }

func (p *pop3Mailbox) Abort() { p.cl.Close() }

// safeFileName keeps a UIDL (RFC 1939 §7: printable ASCII 0x21-0x7E) to
// the characters that are safe in a file name anywhere. A UIDL it had to
// change gets a hash of itself appended, so that two UIDLs never share a
// file ("a/b" and "a_b" would, and with --delete one message would be
// lost), while the same message always gets the same name.
func safeFileName(s string) string {
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, strings.TrimLeft(s, "."))
	if safe == s {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return safe + "-" + hex.EncodeToString(sum[:4])
}
