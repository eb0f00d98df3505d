package mailstore

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailcheck/mailcheck/reference/durable"
)

// Per-mailbox files next to tmp/, new/ and cur/.
const (
	// uidListName records UIDVALIDITY and the lowest UID not yet given out.
	uidListName = "mailcheck-uidlist"
	// keywordsName lists the keywords that info letters a-z stand for.
	keywordsName = "mailcheck-keywords"
)

// Errors of mailbox operations.
var (
	ErrNoMessage       = errors.New("mailstore: no such message")
	ErrTooManyKeywords = errors.New("mailstore: no room for another keyword in this mailbox")
)

// Mailbox is one Maildir folder with an in-memory index of its messages in
// UID order. Every change goes through the Mailbox, so the index, the files
// and the observers (IMAP sessions) always agree.
type Mailbox struct {
	store *Store
	user  string

	// nameMu orders UID assignment with the publication of the file that
	// carries the UID, so messages enter the index in UID order (RFC 9051
	// §2.3.1.1: UIDs strictly ascend). It guards uidNext.
	nameMu  sync.Mutex
	uidNext uint32

	// opMu serializes the operations that change existing messages (flags,
	// expunge), which wait for the committer. mu is never held across a
	// committer call: the committer publishes new messages under mu.
	opMu sync.Mutex

	mu          sync.Mutex // guards the fields below
	name        string     // IMAP name
	path        string
	uidValidity uint32
	msgs        []*Message
	keywords    []string
	observers   []Observer
	gone        bool // deleted
}

// Message is one message as the index knows it.
type Message struct {
	UID   uint32
	Size  int64
	Flags []string  // IMAP flags, canonical and sorted
	Date  time.Time // internal date (RFC 9051 §2.3.3), from the file name
	rel   string    // path relative to the mailbox directory
}

// Observer hears of every change to a mailbox, in order, with sequence
// numbers as they are at the moment of the change and the UID of the
// message changed, so an observer can keep its own numbering. Calls are
// made with the mailbox locked: observers must not call back into it.
type Observer interface {
	// Appended: m is new and now the last message, number seq.
	Appended(seq uint32, m Message)
	// Expunged: message seq, with uid, is gone.
	Expunged(seq, uid uint32)
	// FlagsChanged: message seq, with uid, now has flags; source is what
	// the caller of SetFlags passed.
	FlagsChanged(seq, uid uint32, flags []string, source any)
}

func openMailbox(s *Store, user, name, path string) (*Mailbox, error) {
	for _, sub := range []string{"", "tmp", "new", "cur"} {
		if err := s.committer.MkdirAll(filepath.Join(path, sub)); err != nil {
			return nil, fmt.Errorf("mailstore: %w", err)
		}
	}
	mb := &Mailbox{store: s, user: user, name: name, path: path}
	if err := mb.load(); err != nil {
		return nil, err
	}
	mb.removeStaleTmp()
	return mb, nil
}

// load reads the uid list (creating it for a new mailbox), the keyword
// table and the messages, and raises uidNext past every UID already in a
// file name, so a UID is never reused even if the list is old.
func (mb *Mailbox) load() error {
	listPath := filepath.Join(mb.path, uidListName)
	data, err := os.ReadFile(listPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if mb.uidValidity, err = mb.store.nextUIDValidity(mb.user); err != nil {
			return err
		}
		mb.uidNext = 1
		if err := mb.writeUIDList(); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("mailstore: %w", err)
	default:
		if err := mb.parseUIDList(data); err != nil {
			return fmt.Errorf("mailstore: %s: %w", listPath, err)
		}
	}
	if kw, err := os.ReadFile(filepath.Join(mb.path, keywordsName)); err == nil {
		mb.keywords = strings.Fields(string(kw))
	}
	msgs, err := mb.scan()
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.UID >= mb.uidNext {
			mb.uidNext = m.UID + 1
		}
	}
	// Messages another program put here get UIDs now, in name order.
	for _, m := range msgs {
		if m.UID != 0 {
			continue
		}
		name := parseMessageName(filepath.Base(m.rel))
		name.UID, name.HasUI = mb.uidNext, true
		if name.Size < 0 {
			name.Size = m.Size
		}
		rel := filepath.Join(filepath.Dir(m.rel), name.String())
		if err := mb.store.committer.Rename(filepath.Join(mb.path, m.rel), filepath.Join(mb.path, rel)); err != nil {
			return fmt.Errorf("mailstore: %w", err)
		}
		mb.uidNext++
		m.UID, m.rel = name.UID, rel
	}
	slices.SortFunc(msgs, func(a, b *Message) int { return cmpUID(a.UID, b.UID) })
	mb.msgs = msgs
	return nil
}

func cmpUID(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (mb *Mailbox) parseUIDList(data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, value, _ := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseUint(value, 10, 32)
		switch key {
		case "uidvalidity":
			if err != nil || n == 0 {
				return fmt.Errorf("bad uidvalidity %q", value)
			}
			mb.uidValidity = uint32(n)
		case "uidnext":
			if err != nil || n == 0 {
				return fmt.Errorf("bad uidnext %q", value)
			}
			mb.uidNext = uint32(n)
		}
	}
	if mb.uidValidity == 0 || mb.uidNext == 0 {
		return errors.New("uidvalidity or uidnext missing")
	}
	return nil
}

// writeUIDList records UIDVALIDITY and uidNext; callers hold nameMu or are
// loading.
func (mb *Mailbox) writeUIDList() error {
	data := fmt.Appendf(nil, "uidvalidity %d\nuidnext %d\n", mb.uidValidity, mb.uidNext)
	return mb.store.committer.WriteFile(filepath.Join(mb.path, uidListName), data)
}

// removeStaleTmp deletes temporary files a crash left behind: they were
// never acknowledged (a message is acknowledged only after it is published).
func (mb *Mailbox) removeStaleTmp() {
	entries, _ := os.ReadDir(filepath.Join(mb.path, "tmp"))
	for _, e := range entries {
		os.Remove(filepath.Join(mb.path, "tmp", e.Name()))
	}
}

// scan reads new/ and cur/. Messages without a UID come back with UID 0.
func (mb *Mailbox) scan() ([]*Message, error) {
	var msgs []*Message
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(mb.path, sub))
		if err != nil {
			return nil, fmt.Errorf("mailstore: %w", err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			m := mb.messageFromName(filepath.Join(sub, e.Name()))
			if m.Size < 0 {
				info, err := e.Info()
				if err != nil {
					continue // removed under us
				}
				m.Size = info.Size()
			}
			msgs = append(msgs, m)
		}
	}
	return msgs, nil
}

// messageFromName builds the index entry of a file from its name alone.
func (mb *Mailbox) messageFromName(rel string) *Message {
	name := parseMessageName(filepath.Base(rel))
	return &Message{UID: name.UID, Size: name.Size, Flags: flagsOf(name.Info, mb.keywords), Date: name.time(), rel: rel}
}

// Name is the mailbox's IMAP name.
func (mb *Mailbox) Name() string {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return mb.name
}

// UIDValidity returns the mailbox's UIDVALIDITY.
func (mb *Mailbox) UIDValidity() uint32 {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return mb.uidValidity
}

// UIDNext returns the UID the next message will get.
func (mb *Mailbox) UIDNext() uint32 {
	mb.nameMu.Lock()
	defer mb.nameMu.Unlock()
	return mb.uidNext
}

// Keywords returns the keywords in use in the mailbox.
func (mb *Mailbox) Keywords() []string {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return slices.Clone(mb.keywords)
}

// KeywordRoom reports whether another keyword can be stored.
func (mb *Mailbox) KeywordRoom() bool {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return len(mb.keywords) < maxKeywords
}

// Messages returns the messages in UID order.
func (mb *Mailbox) Messages() ([]Message, error) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if mb.gone {
		return nil, ErrNoMailbox
	}
	return mb.snapshotLocked(), nil
}

func (mb *Mailbox) snapshotLocked() []Message {
	out := make([]Message, len(mb.msgs))
	for i, m := range mb.msgs {
		out[i] = *m
		out[i].Flags = slices.Clone(m.Flags)
	}
	return out
}

// Observe registers the observer that newObserver makes from the messages
// as they are at that moment: every later change reaches it, and none
// before. It fails with ErrNoMailbox if the mailbox was deleted.
func (mb *Mailbox) Observe(newObserver func(current []Message) Observer) (cancel func(), err error) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if mb.gone {
		return nil, ErrNoMailbox
	}
	o := newObserver(mb.snapshotLocked())
	mb.observers = append(mb.observers, o)
	return func() {
		mb.mu.Lock()
		defer mb.mu.Unlock()
		mb.observers = slices.DeleteFunc(mb.observers, func(x Observer) bool { return x == o })
	}, nil
}

// View calls fn with the messages while no change can happen, so what fn
// derives (an IMAP session's starting point) matches what observers hear
// next. fn must not call back into the mailbox.
func (mb *Mailbox) View(fn func(msgs []Message)) error {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if mb.gone {
		return ErrNoMailbox
	}
	fn(mb.snapshotLocked())
	return nil
}

// Open opens the content of the message with uid.
func (mb *Mailbox) Open(uid uint32) (io.ReadCloser, int64, error) {
	f, size, err := mb.openIndexed(uid)
	if err == nil {
		return f, size, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, 0, err
	}
	// SetFlags renames the file first and updates the index after: in
	// between, the index names a file that is gone. The name's part before
	// the Maildir info never changes, so the file is usually found by it;
	// but a directory read racing a rename may miss the entry (POSIX
	// leaves that unspecified), and the file may be renamed again. Under
	// opMu, which SetFlags holds from its rename to its index update, the
	// index and the file agree: looked up there, it is found.
	if f, err := openRenamed(filepath.Join(mb.path, mb.relOf(uid))); err == nil {
		return f, size, nil
	}
	mb.opMu.Lock()
	defer mb.opMu.Unlock()
	f, size, err = mb.openIndexed(uid)
	switch {
	case err == nil:
		return f, size, nil
	case errors.Is(err, os.ErrNotExist):
		return nil, 0, ErrNoMessage
	}
	return nil, 0, err
}

// openIndexed opens the file the index names for uid: ErrNoMessage when
// the index has no such message, an error wrapping os.ErrNotExist when
// the file is not (or no longer) under that name.
func (mb *Mailbox) openIndexed(uid uint32) (*os.File, int64, error) {
	mb.mu.Lock()
	i, ok := mb.indexLocked(uid)
	var path string
	var size int64
	if ok {
		path, size = filepath.Join(mb.path, mb.msgs[i].rel), mb.msgs[i].Size
	}
	mb.mu.Unlock()
	if !ok {
		return nil, 0, ErrNoMessage
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	return f, size, nil
}

// relOf is the index's file name for uid, "" when there is none.
func (mb *Mailbox) relOf(uid uint32) string {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if i, ok := mb.indexLocked(uid); ok {
		return mb.msgs[i].rel
	}
	return ""
}

// openRenamed opens the message file that path named before a flag change
// renamed it: the file in new/ or cur/ of the same mailbox whose name
// agrees with path's up to the Maildir info (":2,…").
func openRenamed(path string) (*os.File, error) {
	name := filepath.Base(path)
	stable, _, _ := strings.Cut(name, ":2,")
	root := filepath.Dir(filepath.Dir(path))
	for _, sub := range []string{"cur", "new"} {
		entries, err := os.ReadDir(filepath.Join(root, sub))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if other, _, _ := strings.Cut(e.Name(), ":2,"); other == stable {
				if f, err := os.Open(filepath.Join(root, sub, e.Name())); err == nil {
					return f, nil
				}
			}
		}
	}
	return nil, os.ErrNotExist
}

// Read returns the content of the message with uid.
func (mb *Mailbox) Read(uid uint32) ([]byte, error) {
	f, _, err := mb.Open(uid)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// unindex takes the message with uid out of the index, if it is there,
// and tells the observers its sequence number and UID.
func (mb *Mailbox) unindex(uid uint32) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if i, ok := mb.indexLocked(uid); ok {
		mb.msgs = slices.Delete(mb.msgs, i, i+1)
		for _, o := range mb.observers {
			o.Expunged(uint32(i+1), uid)
		}
	}
}

func (mb *Mailbox) indexLocked(uid uint32) (int, bool) {
	return slices.BinarySearchFunc(mb.msgs, uid, func(m *Message, uid uint32) int { return cmpUID(m.UID, uid) })
}

// publishFile describes a new message file in sub ("new" or "cur") with
// Maildir info; the UID is assigned when it is published, under nameMu, and
// the index learns of it in UID order.
func (mb *Mailbox) publishFile(sub string, date time.Time, info string, data [][]byte, uid *uint32) durable.File {
	var size int64
	for _, chunk := range data {
		size += int64(len(chunk))
	}
	base := mb.store.names.nextAt(date)
	mb.mu.Lock()
	dir := mb.path
	mb.mu.Unlock()
	return durable.File{
		TmpPath: filepath.Join(dir, "tmp", base),
		Locker:  &mb.nameMu,
		FinalName: func() (string, error) {
			// Maildir: new/ holds unseen deliveries without info; cur/
			// names always carry ":2,".
			name := messageName{Base: base, Size: size, UID: mb.uidNext, HasUI: true, Info: info, HasInfo: sub == "cur"}
			mb.uidNext++
			if uid != nil {
				*uid = name.UID
			}
			return filepath.Join(dir, sub, name.String()), nil
		},
		Published: func(final string) {
			mb.mu.Lock()
			defer mb.mu.Unlock()
			m := mb.messageFromName(filepath.Join(sub, filepath.Base(final)))
			mb.msgs = append(mb.msgs, m)
			for _, o := range mb.observers {
				added := *m
				added.Flags = slices.Clone(m.Flags)
				o.Appended(uint32(len(mb.msgs)), added)
			}
		},
		Data: data,
	}
}
