// Package fetch reads mail the way a scriptable user agent does, over POP3
// or IMAP alike: list the messages (number or UID, size, From, Subject,
// Date), pick them by number, UID or header fields, wait for one to arrive,
// retrieve them byte for byte, write them as .eml files, delete them.
package fetch

import (
	"context"
	"fmt"
	"time"

	"github.com/mailcheck/mailcheck/agent/session"
)

// Options say which mailbox to open and how.
type Options struct {
	session.Options
	// Mailbox is the IMAP mailbox; "" is INBOX. POP3 has only the
	// maildrop.
	Mailbox string
	// Since and Unseen narrow an IMAP listing (SEARCH SINCE, UNSEEN).
	Since  time.Time
	Unseen bool
	// ReadWrite opens an IMAP mailbox with SELECT, as deleting needs;
	// otherwise EXAMINE, which changes nothing.
	ReadWrite bool
}

// Message is a message of the mailbox.
type Message struct {
	// ID is how the user names it: the POP3 message number or the IMAP
	// UID.
	ID string
	// Key names it across sessions: the POP3 UIDL or the IMAP
	// UIDVALIDITY.UID; "" when the server gives no such name.
	Key string
	// FileName is the name of its .eml file, without the extension.
	FileName string
	// Size in octets, as the server reports it.
	Size int64
	// Header is the header section, once read.
	Header []byte
	// num is the POP3 message number or the IMAP UID.
	num uint32
}

// Mailbox is an open session on a mailbox.
type Mailbox interface {
	// Messages lists the messages (with Options.Since and Unseen for
	// IMAP); only, when not "", lists that one alone. Headers may be
	// missing: ReadHeader reads them.
	Messages(only string) ([]Message, error)
	// ReadHeader fills m.Header when it is empty.
	ReadHeader(m *Message) error
	// Retrieve returns the message exactly as the server sent it.
	Retrieve(m Message) ([]byte, error)
	// Delete deletes the messages: IMAP at once; POP3 marks them and
	// deletes them at Close.
	Delete(ms []Message) error
	// Close ends the session, committing POP3 deletions.
	Close() error
	// Abort drops the session: POP3 deletes nothing marked.
	Abort()
}

// Open logs in to the mailbox of the target (pop3://, pop3s://, imap://,
// imaps://).
func Open(ctx context.Context, o Options) (Mailbox, error) {
	switch o.Target.Protocol {
	case "pop3":
		return openPOP3(ctx, o)
	case "imap":
		return openIMAP(ctx, o)
	}
	return nil, fmt.Errorf("%s: fetch reads POP3 and IMAP mailboxes (pop3://, imap://)", o.Target)
}
