// Package mailstore keeps the reference server's per-user mailboxes on disk
// in Maildir layout (tmp → new → cur, one file per message), so standard
// tools can read them, with what IMAP needs on top: a UID and UIDVALIDITY per
// mailbox that survive restarts.
//
// Layout under the data directory:
//
//	mail/<user>/             the user's INBOX, a Maildir (tmp/ new/ cur/)
//	mail/<user>/.<Name>/     other mailboxes, Maildir++ style
//	mail/<user>/…/mailcheck-uidlist   UIDVALIDITY and the next UID
//
// A message's UID is part of its file name (",U=<uid>"), assigned when the
// file is renamed into new/, so delivering a message writes exactly one file
// and a restart recovers the next UID from the names. Messages are stored
// exactly as received, with CRLF line ends, so sizes equal the octets a POP3
// RETR or IMAP RFC822.SIZE reports.
package mailstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/mailcheck/mailcheck/reference/durable"
	"github.com/mailcheck/mailcheck/reference/users"
)

// ErrBadUser is returned for a user name that cannot name a directory.
var ErrBadUser = errors.New("mailstore: invalid user name")

// Store is the set of all users' mailboxes under one directory.
type Store struct {
	root      string
	committer *durable.Committer
	names     *uniqueNames

	mu    sync.Mutex
	boxes map[string]*Mailbox // key: user + "/" + mailbox directory
}

// Open opens (creating if needed) the store under dir/mail.
func Open(dir string, committer *durable.Committer) (*Store, error) {
	root := filepath.Join(dir, "mail")
	if err := committer.MkdirAll(root); err != nil {
		return nil, fmt.Errorf("mailstore: %w", err)
	}
	names, err := newUniqueNames()
	if err != nil {
		return nil, err
	}
	return &Store{root: root, committer: committer, names: names, boxes: make(map[string]*Mailbox)}, nil
}

// ValidUser reports whether name can own a mailbox directory; it is the
// rule of users.ValidName.
func ValidUser(name string) bool { return users.ValidName(name) }

// Inbox returns user's INBOX, creating it on first use.
func (s *Store) Inbox(user string) (*Mailbox, error) {
	if !ValidUser(user) {
		return nil, fmt.Errorf("%w: %q", ErrBadUser, user)
	}
	key := user + "/"
	s.mu.Lock()
	defer s.mu.Unlock()
	if mb := s.boxes[key]; mb != nil {
		return mb, nil
	}
	mb, err := openMailbox(filepath.Join(s.root, user), s.committer, s.names)
	if err != nil {
		return nil, err
	}
	s.boxes[key] = mb
	return mb, nil
}
