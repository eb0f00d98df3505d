package mailstore

import (
	"bufio"
	"bytes"
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
)

// uidListName is the per-mailbox file that records UIDVALIDITY and the
// lowest UID not yet given out.
const uidListName = "mailcheck-uidlist"

// Mailbox is one Maildir folder.
type Mailbox struct {
	path      string
	committer *durable.Committer
	names     *uniqueNames

	// mu orders UID assignment with the rename that publishes the UID, so
	// messages appear in new/ in UID order (RFC 9051 §2.3.1.1: UIDs
	// strictly ascend).
	mu          sync.Mutex
	uidValidity uint32
	uidNext     uint32
}

// Message is one stored message.
type Message struct {
	UID   uint32
	Size  int64
	Flags string // Maildir flag letters (RFC-less convention: D F P R S T)
	Path  string
	New   bool // still in new/: not yet seen by any mail reader
}

func openMailbox(path string, committer *durable.Committer, names *uniqueNames) (*Mailbox, error) {
	for _, sub := range []string{"", "tmp", "new", "cur"} {
		if err := committer.MkdirAll(filepath.Join(path, sub)); err != nil {
			return nil, fmt.Errorf("mailstore: %w", err)
		}
	}
	mb := &Mailbox{path: path, committer: committer, names: names}
	if err := mb.load(); err != nil {
		return nil, err
	}
	mb.removeStaleTmp()
	return mb, nil
}

// load reads the uid list (creating it for a new mailbox) and raises
// uidNext past every UID already in a file name, so a UID is never reused
// even if the list was last written long ago.
func (mb *Mailbox) load() error {
	listPath := filepath.Join(mb.path, uidListName)
	data, err := os.ReadFile(listPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		mb.uidValidity = uint32(time.Now().Unix())
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
	msgs, err := mb.scan()
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.UID >= mb.uidNext {
			mb.uidNext = m.UID + 1
		}
	}
	return nil
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

func (mb *Mailbox) writeUIDList() error {
	data := fmt.Sprintf("uidvalidity %d\nuidnext %d\n", mb.uidValidity, mb.uidNext)
	return mb.committer.WriteFile(filepath.Join(mb.path, uidListName), []byte(data))
}

// removeStaleTmp deletes temporary files a crash left behind: they were
// never acknowledged (a message is acknowledged only after its rename).
func (mb *Mailbox) removeStaleTmp() {
	entries, _ := os.ReadDir(filepath.Join(mb.path, "tmp"))
	for _, e := range entries {
		os.Remove(filepath.Join(mb.path, "tmp", e.Name()))
	}
}

// UIDValidity returns the mailbox's UIDVALIDITY.
func (mb *Mailbox) UIDValidity() uint32 {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return mb.uidValidity
}

// UIDNext returns the UID the next message will get.
func (mb *Mailbox) UIDNext() uint32 {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return mb.uidNext
}

// Messages lists the mailbox's messages in UID order. Messages put into
// new/ or cur/ by another program get a UID here (their file is renamed to
// carry it).
func (mb *Mailbox) Messages() ([]Message, error) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	msgs, err := mb.scan()
	if err != nil {
		return nil, err
	}
	for i := range msgs {
		if msgs[i].UID != 0 {
			continue
		}
		// A foreign delivery: give it the next UID, durably.
		name := parseMessageName(filepath.Base(msgs[i].Path))
		name.UID, name.HasUI = mb.uidNext, true
		if name.Size < 0 {
			name.Size = msgs[i].Size
		}
		target := filepath.Join(filepath.Dir(msgs[i].Path), name.String())
		if err := mb.committer.Rename(msgs[i].Path, target); err != nil {
			return nil, fmt.Errorf("mailstore: %w", err)
		}
		mb.uidNext++
		msgs[i].UID, msgs[i].Path = name.UID, target
	}
	slices.SortFunc(msgs, func(a, b Message) int { return int(int64(a.UID) - int64(b.UID)) })
	return msgs, nil
}

// scan reads new/ and cur/. Messages without a UID come back with UID 0.
func (mb *Mailbox) scan() ([]Message, error) {
	var msgs []Message
	for _, sub := range []string{"new", "cur"} {
		dir := filepath.Join(mb.path, sub)
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("mailstore: %w", err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			name := parseMessageName(e.Name())
			m := Message{UID: name.UID, Size: name.Size, Flags: name.Info, Path: filepath.Join(dir, e.Name()), New: sub == "new"}
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

// deliveryFile describes one message delivered into this mailbox; the UID
// is assigned at the rename, under mb.mu.
func (mb *Mailbox) deliveryFile(size int64, data [][]byte) durable.File {
	base := mb.names.next()
	return durable.File{
		TmpPath: filepath.Join(mb.path, "tmp", base),
		Locker:  &mb.mu,
		FinalName: func() (string, error) {
			name := messageName{Base: base, Size: size, UID: mb.uidNext, HasUI: true}
			mb.uidNext++
			return filepath.Join(mb.path, "new", name.String()), nil
		},
		Data: data,
	}
}
