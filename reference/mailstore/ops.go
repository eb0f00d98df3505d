package mailstore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/reference/durable"
)

// StoreOp says how SetFlags combines the given flags with a message's.
type StoreOp int

// STORE operations (RFC 9051 §6.4.6).
const (
	FlagsSet StoreOp = iota
	FlagsAdd
	FlagsRemove
)

// Changed is a message whose flags SetFlags changed.
type Changed struct {
	UID   uint32
	Flags []string
}

// SetFlags changes the flags of the messages with the given UIDs (missing
// UIDs are skipped) and renames their files to carry the new Maildir info,
// durably. Observers hear of each change with source, so an IMAP session
// can tell its own changes from others'. It returns the messages changed.
func (mb *Mailbox) SetFlags(uids []uint32, op StoreOp, flags []string, source any) ([]Changed, error) {
	mb.opMu.Lock()
	defer mb.opMu.Unlock()
	flags = normalizeFlags(flags)

	type change struct {
		uid            uint32
		oldRel, newRel string
		flags          []string
	}
	mb.mu.Lock()
	if mb.gone {
		mb.mu.Unlock()
		return nil, ErrNoMailbox
	}
	keywords := slices.Clone(mb.keywords)
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) && !hasFlag(keywords, f) {
			keywords = append(keywords, f)
		}
	}
	if len(keywords) > maxKeywords {
		mb.mu.Unlock()
		return nil, ErrTooManyKeywords
	}
	var changes []change
	for _, uid := range uids {
		i, ok := mb.indexLocked(uid)
		if !ok {
			continue
		}
		m := mb.msgs[i]
		next := combineFlags(m.Flags, op, flags)
		if slices.Equal(next, m.Flags) {
			continue
		}
		info, _ := infoOf(next, keywords)
		name := parseMessageName(filepath.Base(m.rel))
		name.Info, name.HasInfo = info, true
		// Maildir: a message whose flags are set lives in cur/.
		changes = append(changes, change{uid, m.rel, filepath.Join("cur", name.String()), next})
	}
	grew := len(keywords) > len(mb.keywords)
	dir := mb.path
	mb.mu.Unlock()

	if grew {
		// The table must be on disk before any file name uses its letters.
		if err := mb.store.committer.WriteFile(filepath.Join(dir, keywordsName), []byte(strings.Join(keywords, "\n")+"\n")); err != nil {
			return nil, err
		}
		mb.mu.Lock()
		mb.keywords = keywords
		mb.mu.Unlock()
	}
	var done []Changed
	for _, c := range changes {
		var renameErr error
		if c.oldRel != c.newRel {
			from, to := filepath.Join(dir, c.oldRel), filepath.Join(dir, c.newRel)
			if renameErr = mb.store.committer.Rename(from, to); renameErr != nil && !moved(from, to) {
				return done, renameErr
			}
			// Either renamed, or renamed but not known durable (a failed
			// directory fsync): the index follows the file, or the
			// message could not be opened until a restart.
		}
		mb.mu.Lock()
		if i, ok := mb.indexLocked(c.uid); ok {
			mb.msgs[i].rel, mb.msgs[i].Flags = c.newRel, c.flags
			for _, o := range mb.observers {
				o.FlagsChanged(uint32(i+1), c.uid, slices.Clone(c.flags), source)
			}
		}
		mb.mu.Unlock()
		done = append(done, Changed{UID: c.uid, Flags: c.flags})
		if renameErr != nil {
			return done, renameErr
		}
	}
	return done, nil
}

// moved reports whether a rename from → to that returned an error happened
// all the same.
func moved(from, to string) bool {
	_, errFrom := os.Lstat(from)
	_, errTo := os.Lstat(to)
	return errors.Is(errFrom, os.ErrNotExist) && errTo == nil
}

func combineFlags(current []string, op StoreOp, flags []string) []string {
	switch op {
	case FlagsSet:
		return slices.Clone(flags)
	case FlagsAdd:
		return normalizeFlags(append(slices.Clone(current), flags...))
	default:
		return slices.DeleteFunc(slices.Clone(current), func(f string) bool { return hasFlag(flags, f) })
	}
}

// Expunge removes the messages with the given UIDs (missing ones are
// skipped), durably, and returns the UIDs removed. UIDNEXT is recorded
// first, so a removed UID is never given out again, even after a restart.
func (mb *Mailbox) Expunge(uids []uint32) ([]uint32, error) {
	mb.opMu.Lock()
	defer mb.opMu.Unlock()
	mb.mu.Lock()
	if mb.gone {
		mb.mu.Unlock()
		return nil, ErrNoMailbox
	}
	var targets []*Message
	for _, uid := range uids {
		if i, ok := mb.indexLocked(uid); ok {
			targets = append(targets, mb.msgs[i])
		}
	}
	dir := mb.path
	mb.mu.Unlock()
	if len(targets) == 0 {
		return nil, nil
	}
	mb.nameMu.Lock()
	uidNext := mb.uidNext
	mb.nameMu.Unlock()
	list := fmt.Appendf(nil, "uidvalidity %d\nuidnext %d\n", mb.UIDValidity(), uidNext)
	if err := mb.store.committer.WriteFile(filepath.Join(dir, uidListName), list); err != nil {
		return nil, err
	}
	var removed []uint32
	for _, m := range targets {
		path := filepath.Join(dir, m.rel)
		removeErr := mb.store.committer.Remove(path)
		if removeErr != nil {
			if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
				return removed, removeErr
			}
			// Removed, but not known durable (a failed directory fsync):
			// the index follows the file.
		}
		mb.mu.Lock()
		if i, ok := mb.indexLocked(m.UID); ok {
			mb.msgs = slices.Delete(mb.msgs, i, i+1)
			for _, o := range mb.observers {
				o.Expunged(uint32(i+1), m.UID)
			}
		}
		mb.mu.Unlock()
		removed = append(removed, m.UID)
		if removeErr != nil {
			return removed, removeErr
		}
	}
	return removed, nil
}

// Append stores a message in the mailbox with flags and an internal date
// (zero means now) and returns its UID (IMAP APPEND, RFC 9051 §6.3.12).
func (mb *Mailbox) Append(r io.Reader, flags []string, date time.Time) (uint32, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return 0, err
	}
	return mb.appendBytes(data, flags, date)
}

func (mb *Mailbox) appendBytes(data []byte, flags []string, date time.Time) (uint32, error) {
	if date.IsZero() {
		date = time.Now()
	}
	flags = normalizeFlags(flags)
	if len(flags) > 0 {
		if err := mb.ensureKeywords(flags); err != nil {
			return 0, err
		}
	}
	mb.mu.Lock()
	if mb.gone {
		mb.mu.Unlock()
		return 0, ErrNoMailbox
	}
	info, _ := infoOf(flags, mb.keywords)
	mb.mu.Unlock()
	var uid uint32
	_, err := mb.store.committer.Write([]durable.File{mb.publishFile("cur", date, info, [][]byte{data}, &uid)})
	return uid, err
}

// ensureKeywords adds the keywords among flags to the table, durably.
func (mb *Mailbox) ensureKeywords(flags []string) error {
	mb.opMu.Lock()
	defer mb.opMu.Unlock()
	mb.mu.Lock()
	keywords := slices.Clone(mb.keywords)
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) && !hasFlag(keywords, f) {
			keywords = append(keywords, f)
		}
	}
	dir := mb.path
	grew := len(keywords) > len(mb.keywords)
	mb.mu.Unlock()
	if !grew {
		return nil
	}
	if len(keywords) > maxKeywords {
		return ErrTooManyKeywords
	}
	if err := mb.store.committer.WriteFile(filepath.Join(dir, keywordsName), []byte(strings.Join(keywords, "\n")+"\n")); err != nil {
		return err
	}
	mb.mu.Lock()
	mb.keywords = keywords
	mb.mu.Unlock()
	return nil
}

// CopyTo copies the messages with the given UIDs into dest, keeping flags
// and internal dates, and returns the source and new UIDs in pairs. If a
// copy fails, the copies already made are expunged again: RFC 9051 §6.4.7
// requires a failed COPY to leave the destination as it was. (Should that
// fail too, they stay and are returned with the error.)
func (mb *Mailbox) CopyTo(dest *Mailbox, uids []uint32) (src, dst []uint32, err error) {
	msgs, err := mb.Messages()
	if err != nil {
		return nil, nil, err
	}
	for _, m := range msgs {
		if !slices.Contains(uids, m.UID) {
			continue
		}
		data, err := mb.Read(m.UID)
		if err != nil {
			continue // expunged meanwhile
		}
		uid, err := dest.appendBytes(data, m.Flags, m.Date)
		if err != nil {
			if len(dst) == 0 {
				return nil, nil, err
			}
			taken, rbErr := dest.Expunge(dst)
			if rbErr == nil {
				return nil, nil, err
			}
			// Report the copies that stayed.
			var keptSrc, keptDst []uint32
			for i, u := range dst {
				if !slices.Contains(taken, u) {
					keptSrc, keptDst = append(keptSrc, src[i]), append(keptDst, u)
				}
			}
			return keptSrc, keptDst, errors.Join(err, rbErr)
		}
		src, dst = append(src, m.UID), append(dst, uid)
	}
	return src, dst, nil
}
