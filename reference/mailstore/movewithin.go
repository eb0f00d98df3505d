package mailstore

import (
	"errors"
	"os"
	"path/filepath"
	"slices"

	"github.com/mailcheck/mailcheck/reference/durable"
)

// MoveWithin gives the messages with the given UIDs (missing ones are
// skipped) new UIDs at the end of the mailbox: an IMAP MOVE into the
// selected mailbox (RFC 6851 §3.1 names any mailbox as target). It returns
// the old and the new UIDs, pairwise.
//
// Observers hear each message leave before it arrives again (Expunged,
// then Appended), so a session is told "* k EXPUNGE" and then an EXISTS
// with the count it had: the other order, a copy and then an expunge,
// would announce for a moment one message the mailbox never holds. The
// copy is durable before the original is removed, as with CopyTo and
// Expunge: a crash in between leaves the message twice, never lost.
func (mb *Mailbox) MoveWithin(uids []uint32) (src, dst []uint32, err error) {
	mb.opMu.Lock()
	defer mb.opMu.Unlock()
	msgs, err := mb.Messages()
	if err != nil {
		return nil, nil, err
	}
	for _, m := range msgs {
		if !slices.Contains(uids, m.UID) {
			continue
		}
		uid, err := mb.renumber(m)
		if errors.Is(err, ErrNoMessage) {
			continue // expunged meanwhile
		}
		if err != nil {
			return src, dst, err
		}
		src, dst = append(src, m.UID), append(dst, uid)
	}
	return src, dst, nil
}

// renumber stores a copy of m under a new UID, taking m out of the index
// at the moment the copy enters it, then removes m's file.
func (mb *Mailbox) renumber(m Message) (uint32, error) {
	data, err := mb.Read(m.UID)
	if err != nil {
		return 0, err
	}
	mb.mu.Lock()
	info, _ := infoOf(m.Flags, mb.keywords)
	dir := mb.path
	mb.mu.Unlock()
	var uid uint32
	file := mb.publishFile("cur", m.Date, info, [][]byte{data}, &uid)
	publish := file.Published
	file.Published = func(final string) {
		mb.unindex(m.UID)
		publish(final)
	}
	if _, err := mb.store.committer.Write([]durable.File{file}); err != nil {
		return 0, err
	}
	old := filepath.Join(dir, m.rel)
	if err := mb.store.committer.Remove(old); err != nil {
		if _, statErr := os.Lstat(old); !errors.Is(statErr, os.ErrNotExist) {
			return uid, err
		}
	}
	return uid, nil
}
