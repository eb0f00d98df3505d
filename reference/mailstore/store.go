// Package mailstore keeps the reference server's per-user mailboxes on disk
// in Maildir layout (tmp → new → cur, one file per message), so standard
// tools can read them, with what IMAP needs on top: UIDs and a UIDVALIDITY
// that survive restarts, flags and keywords, folders and subscriptions.
//
// Layout under the data directory:
//
//	mail/<user>/                          the user's INBOX, a Maildir (tmp/ new/ cur/)
//	mail/<user>/.<name>/                  other mailboxes, Maildir++ style ("." separates levels)
//	mail/<user>/…/mailcheck-uidlist       UIDVALIDITY and the next UID of a mailbox
//	mail/<user>/…/mailcheck-keywords      the keywords that info letters a-z stand for
//	mail/<user>/mailcheck-subscriptions   subscribed mailbox names
//	mail/<user>/mailcheck-uidvalidity     the last UIDVALIDITY given out
//
// A message's UID is part of its file name (",U=<uid>"), given when the file
// is published, and its flags are the Maildir info (":2,DFRST" plus a-z for
// keywords), so a change is one durable rename. Messages are stored exactly
// as received, with CRLF line ends, so sizes equal the octets a POP3 RETR or
// IMAP RFC822.SIZE reports. The internal date is the time in the file name.
package mailstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailcheck/mailcheck/reference/durable"
	"github.com/mailcheck/mailcheck/reference/users"
)

// Errors of mailbox-level operations.
var (
	ErrBadUser    = errors.New("mailstore: invalid user name")
	ErrNoMailbox  = errors.New("mailstore: no such mailbox")
	ErrExists     = errors.New("mailstore: mailbox already exists")
	ErrBadName    = errors.New("mailstore: invalid mailbox name")
	ErrInbox      = errors.New("mailstore: INBOX cannot be deleted")
	errDeletedDir = ".mailcheck-deleted-"
)

// Delimiter separates the levels of a mailbox name (Maildir++).
const Delimiter = '.'

const (
	subscriptionsName = "mailcheck-subscriptions"
	uidValidityName   = "mailcheck-uidvalidity"
)

// Store is the set of all users' mailboxes under one directory.
type Store struct {
	root      string
	committer *durable.Committer
	names     *uniqueNames

	mu    sync.Mutex
	boxes map[string]*Mailbox // key: user + "\x00" + IMAP name
}

// Open opens (creating if needed) the store under dir/mail.
func Open(dir string, committer *durable.Committer) (*Store, error) {
	root := filepath.Join(dir, "mail")
	if err := committer.MkdirAll(root); err != nil {
		return nil, fmt.Errorf("mailstore: %w", err)
	}
	return &Store{root: root, committer: committer, names: newUniqueNames(), boxes: make(map[string]*Mailbox)}, nil
}

// ValidUser reports whether name can own a mailbox directory; it is the
// rule of users.ValidName.
func ValidUser(name string) bool { return users.ValidName(name) }

// Inbox returns user's INBOX, creating it on first use.
func (s *Store) Inbox(user string) (*Mailbox, error) {
	return s.Mailbox(user, "INBOX")
}

// CanonicalName returns name with an INBOX prefix in upper case (RFC 9051
// §5.1: INBOX is case-insensitive), or ErrBadName.
func CanonicalName(name string) (string, error) {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX", nil
	}
	if len(name) > 6 && strings.EqualFold(name[:6], "INBOX.") {
		name = "INBOX" + name[5:]
	}
	if name == "" || len(name) > 200 || name[0] == Delimiter || name[len(name)-1] == Delimiter ||
		strings.Contains(name, "..") || strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, errDeletedDir[1:]) {
		return "", ErrBadName
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "", ErrBadName
		}
	}
	return name, nil
}

func (s *Store) userDir(user string) (string, error) {
	if !ValidUser(user) {
		return "", fmt.Errorf("%w: %q", ErrBadUser, user)
	}
	return filepath.Join(s.root, user), nil
}

func (s *Store) mailboxDir(user, name string) (string, error) {
	dir, err := s.userDir(user)
	if err != nil {
		return "", err
	}
	if name == "INBOX" {
		return dir, nil
	}
	return filepath.Join(dir, "."+name), nil
}

// Mailbox returns the named mailbox of user. INBOX always exists (it is made
// on first use); other mailboxes must have been created.
func (s *Store) Mailbox(user, name string) (*Mailbox, error) {
	name, err := CanonicalName(name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mailboxLocked(user, name, name == "INBOX")
}

func (s *Store) mailboxLocked(user, name string, create bool) (*Mailbox, error) {
	key := user + "\x00" + name
	if mb := s.boxes[key]; mb != nil {
		return mb, nil
	}
	dir, err := s.mailboxDir(user, name)
	if err != nil {
		return nil, err
	}
	if !create {
		if _, err := os.Stat(filepath.Join(dir, "cur")); err != nil {
			return nil, ErrNoMailbox
		}
	}
	mb, err := openMailbox(s, user, name, dir)
	if err != nil {
		return nil, err
	}
	s.boxes[key] = mb
	return mb, nil
}

// CreateMailbox creates a mailbox (RFC 9051 §6.3.4).
func (s *Store) CreateMailbox(user, name string) error {
	name, err := CanonicalName(name)
	if err != nil {
		return err
	}
	if name == "INBOX" {
		return ErrExists // INBOX always exists
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.mailboxLocked(user, name, false); err == nil {
		return ErrExists
	}
	_, err = s.mailboxLocked(user, name, true)
	return err
}

// DeleteMailbox deletes a mailbox and its messages (RFC 9051 §6.3.5).
// Mailboxes below it in the hierarchy stay.
func (s *Store) DeleteMailbox(user, name string) error {
	name, err := CanonicalName(name)
	if err != nil {
		return err
	}
	if name == "INBOX" {
		return ErrInbox
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mb, err := s.mailboxLocked(user, name, false)
	if err != nil {
		return err
	}
	userDir, _ := s.userDir(user)
	trash := filepath.Join(userDir, errDeletedDir+strconv.FormatInt(time.Now().UnixNano(), 36))
	mb.mu.Lock()
	mb.gone = true
	dir := mb.path
	mb.mu.Unlock()
	delete(s.boxes, user+"\x00"+name)
	// One durable rename takes the mailbox away; removing the files after
	// that can be slow and need not be durable.
	if err := s.committer.Rename(dir, trash); err != nil {
		return err
	}
	os.RemoveAll(trash)
	return nil
}

// RenameMailbox renames a mailbox and the mailboxes below it (RFC 9051
// §6.3.6). Renaming INBOX moves its messages to the new mailbox and leaves
// INBOX empty.
func (s *Store) RenameMailbox(user, oldName, newName string) error {
	oldName, err := CanonicalName(oldName)
	if err != nil {
		return err
	}
	if newName, err = CanonicalName(newName); err != nil {
		return err
	}
	if newName == "INBOX" {
		return ErrExists
	}
	if oldName == "INBOX" {
		return s.renameInbox(user, newName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.mailboxLocked(user, oldName, false); err != nil {
		return err
	}
	if _, err := s.mailboxLocked(user, newName, false); err == nil {
		return ErrExists
	}
	names, err := s.listLocked(user)
	if err != nil {
		return err
	}
	for _, n := range names {
		if n != oldName && !strings.HasPrefix(n, oldName+string(Delimiter)) {
			continue
		}
		to := newName + n[len(oldName):]
		from, _ := s.mailboxDir(user, n)
		toDir, _ := s.mailboxDir(user, to)
		if err := s.committer.Rename(from, toDir); err != nil {
			return err
		}
		if mb := s.boxes[user+"\x00"+n]; mb != nil {
			delete(s.boxes, user+"\x00"+n)
			mb.mu.Lock()
			mb.name, mb.path = to, toDir
			mb.mu.Unlock()
			s.boxes[user+"\x00"+to] = mb
		}
	}
	return nil
}

func (s *Store) renameInbox(user, newName string) error {
	if err := s.CreateMailbox(user, newName); err != nil {
		return err
	}
	inbox, err := s.Inbox(user)
	if err != nil {
		return err
	}
	dest, err := s.Mailbox(user, newName)
	if err != nil {
		return err
	}
	msgs, err := inbox.Messages()
	if err != nil {
		return err
	}
	uids := make([]uint32, len(msgs))
	for i, m := range msgs {
		uids[i] = m.UID
	}
	if _, _, err := inbox.CopyTo(dest, uids); err != nil {
		return err
	}
	_, err = inbox.Expunge(uids)
	return err
}

// ListMailboxes returns the names of user's mailboxes, INBOX first, then in
// name order.
func (s *Store) ListMailboxes(user string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listLocked(user)
}

func (s *Store) listLocked(user string) ([]string, error) {
	dir, err := s.userDir(user)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() || len(n) < 2 || n[0] != '.' || strings.HasPrefix(n, errDeletedDir) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, n, "cur")); err == nil {
			names = append(names, n[1:])
		}
	}
	slices.Sort(names)
	return append([]string{"INBOX"}, names...), nil
}

// Subscriptions returns user's subscribed mailbox names (RFC 9051 §6.3.7).
func (s *Store) Subscriptions(user string) ([]string, error) {
	dir, err := s.userDir(user)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, subscriptionsName))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return strings.Fields(string(data)), nil
}

// SetSubscribed subscribes or unsubscribes a name, durably. A name may be
// subscribed whether or not the mailbox exists (RFC 9051 §6.3.7).
func (s *Store) SetSubscribed(user, name string, on bool) error {
	name, err := CanonicalName(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	subs, err := s.Subscriptions(user)
	if err != nil {
		return err
	}
	had := slices.Contains(subs, name)
	switch {
	case on && !had:
		subs = append(subs, name)
	case !on && had:
		subs = slices.DeleteFunc(subs, func(n string) bool { return n == name })
	default:
		return nil
	}
	slices.Sort(subs)
	dir, _ := s.userDir(user)
	if err := s.committer.MkdirAll(dir); err != nil {
		return err
	}
	return s.committer.WriteFile(filepath.Join(dir, subscriptionsName), []byte(strings.Join(subs, "\n")+"\n"))
}

// nextUIDValidity gives a new mailbox of user a UIDVALIDITY greater than any
// before, so a mailbox deleted and created again never reuses one (RFC 9051
// §2.3.1.1).
func (s *Store) nextUIDValidity(user string) (uint32, error) {
	dir, err := s.userDir(user)
	if err != nil {
		return 0, err
	}
	if err := s.committer.MkdirAll(dir); err != nil {
		return 0, err
	}
	path := filepath.Join(dir, uidValidityName)
	var last uint64
	if data, err := os.ReadFile(path); err == nil {
		last, _ = strconv.ParseUint(strings.TrimSpace(string(data)), 10, 32)
	}
	next := max(uint32(time.Now().Unix()), uint32(last)+1)
	if err := s.committer.WriteFile(path, []byte(strconv.FormatUint(uint64(next), 10)+"\n")); err != nil {
		return 0, err
	}
	return next, nil
}
