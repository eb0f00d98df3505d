package imapbackend

import (
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/mailcheck/mailcheck/reference/mailstore"
)

// selected is the selected state of a session (RFC 9051 §3.3).
type selected struct {
	mb       *mailstore.Mailbox
	tracker  *imapserver.SessionTracker
	readOnly bool
	// saved is the result SEARCH RETURN (SAVE) kept for "$" (RFC 5182).
	saved imap.UIDSet
}

func (sel *selected) close() {
	sel.tracker.Close()
}

// wireSeq is the sequence number the client knows a message by.
func (sel *selected) wireSeq(seq uint32) uint32 {
	return sel.tracker.EncodeSeqNum(seq)
}

// target is a message an operation applies to: its sequence number in the
// store's (server) view, and the message.
type target struct {
	seq uint32
	msg mailstore.Message
}

// Select serves SELECT and EXAMINE. On failure no mailbox is selected:
// imapserver has already closed the previous one.
func (s *session) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	mb, err := s.store().Mailbox(s.user, name)
	if err != nil {
		return nil, imapError(err)
	}
	t := s.backend.tracker(mb)
	// Read these before View: View holds the mailbox lock, which they take.
	uidNext := mb.UIDNext()
	keywords := mb.Keywords()
	room := mb.KeywordRoom()
	book := s.backend.recent.of(mb)
	var data *imap.SelectData
	var st *imapserver.SessionTracker
	var recent *recentView
	sel := &selected{mb: mb, readOnly: options.ReadOnly}
	err = mb.View(func(msgs []mailstore.Message) {
		st = t.NewSession()
		data = &imap.SelectData{NumMessages: uint32(len(msgs)), UIDValidity: 0, UIDNext: imap.UID(uidNext)}
		recent, data.NumRecent = book.open(msgs, options.ReadOnly)
		for i, m := range msgs {
			if m.UID >= uidNext {
				data.UIDNext = imap.UID(m.UID + 1)
			}
			if data.FirstUnseenSeqNum == 0 && !slices.Contains(m.Flags, mailstore.FlagSeen) {
				data.FirstUnseenSeqNum = uint32(i + 1)
			}
		}
	})
	if err != nil {
		return nil, imapError(err)
	}
	data.UIDValidity = mb.UIDValidity()
	data.Flags = toIMAPFlags(append(slices.Clone(systemFlags), keywords...))
	if !options.ReadOnly {
		// RFC 9051 §7.1: PERMANENTFLAGS lists what STORE keeps; \* when new
		// keywords can be created. A read-only mailbox keeps none.
		data.PermanentFlags = slices.Clone(data.Flags)
		if room {
			data.PermanentFlags = append(data.PermanentFlags, imap.FlagWildcard)
		}
	}
	sel.tracker = st
	s.sel, s.recent = sel, recent
	return data, nil
}

func (s *session) Unselect() error {
	if s.sel != nil {
		s.sel.close()
		s.sel = nil
	}
	return nil
}

// resolve lists the messages a number set names, in sequence order. "*"
// and ranges are resolved against the mailbox now; "$" is the saved search.
func (sel *selected) resolve(numSet imap.NumSet) ([]target, error) {
	if imap.IsSearchRes(numSet) {
		numSet = sel.saved
	}
	var out []target
	err := sel.mb.View(func(msgs []mailstore.Message) {
		switch set := numSet.(type) {
		case imap.SeqSet:
			set = staticSeqSet(set, uint32(len(msgs)))
			for i, m := range msgs {
				if seq := sel.tracker.EncodeSeqNum(uint32(i + 1)); seq != 0 && set.Contains(seq) {
					out = append(out, target{uint32(i + 1), m})
				}
			}
		case imap.UIDSet:
			var max imap.UID
			if len(msgs) > 0 {
				max = imap.UID(msgs[len(msgs)-1].UID)
			}
			set = staticUIDSet(set, max)
			for i, m := range msgs {
				if set.Contains(imap.UID(m.UID)) {
					out = append(out, target{uint32(i + 1), m})
				}
			}
		}
	})
	return out, imapError(err)
}

// staticSeqSet replaces "*" with the highest sequence number.
func staticSeqSet(set imap.SeqSet, max uint32) imap.SeqSet {
	out := slices.Clone(set)
	for i := range out {
		out[i].Start, out[i].Stop = staticRange(out[i].Start, out[i].Stop, max)
	}
	return out
}

// staticUIDSet replaces "*" with the highest UID in use; RFC 9051 §6.4.8:
// "n:*" always includes the highest UID, even when n is above it.
func staticUIDSet(set imap.UIDSet, max imap.UID) imap.UIDSet {
	out := slices.Clone(set)
	for i := range out {
		start, stop := staticRange(uint32(out[i].Start), uint32(out[i].Stop), uint32(max))
		out[i].Start, out[i].Stop = imap.UID(start), imap.UID(stop)
	}
	return out
}

func staticRange(start, stop, max uint32) (uint32, uint32) {
	if start == 0 {
		start = max
	}
	if stop == 0 {
		stop = max
	}
	if start > stop {
		start, stop = stop, start
	}
	return start, stop
}

func uidsOf(targets []target) []uint32 {
	out := make([]uint32, len(targets))
	for i, t := range targets {
		out[i] = t.msg.UID
	}
	return out
}

// Expunge serves EXPUNGE, UID EXPUNGE and the expunge of CLOSE. The
// EXPUNGE responses reach this session (and others) through the tracker.
// In a read-only mailbox nothing is expunged: CLOSE then just closes
// (RFC 9051 §6.4.1), and EXPUNGE removes nothing.
func (s *session) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	if s.sel.readOnly {
		return nil
	}
	msgs, err := s.sel.mb.Messages()
	if err != nil {
		return imapError(err)
	}
	var doomed []uint32
	for _, m := range msgs {
		if slices.Contains(m.Flags, mailstore.FlagDeleted) && (uids == nil || uids.Contains(imap.UID(m.UID))) {
			doomed = append(doomed, m.UID)
		}
	}
	_, err = s.sel.mb.Expunge(doomed)
	return imapError(err)
}

// Store serves STORE and UID STORE (RFC 9051 §6.4.6). Other sessions hear
// of the change through the tracker; this one gets FETCH FLAGS here unless
// .SILENT.
func (s *session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, _ *imap.StoreOptions) error {
	if s.sel.readOnly {
		return errReadOnly
	}
	storable, err := storableFlags(flags.Flags)
	if err != nil {
		return err
	}
	targets, err := s.sel.resolve(numSet)
	if err != nil {
		return err
	}
	op := map[imap.StoreFlagsOp]mailstore.StoreOp{imap.StoreFlagsSet: mailstore.FlagsSet, imap.StoreFlagsAdd: mailstore.FlagsAdd, imap.StoreFlagsDel: mailstore.FlagsRemove}[flags.Op]
	if _, err := s.sel.mb.SetFlags(uidsOf(targets), op, storable, s.sel.tracker); err != nil {
		return imapError(err)
	}
	if flags.Silent {
		return nil
	}
	// Report the flags as they are now, for every message named, changed or
	// not (RFC 9051 §6.4.6).
	now, err := s.sel.resolve(numSet)
	if err != nil {
		return err
	}
	for _, t := range now {
		rw := w.CreateMessage(s.sel.wireSeq(t.seq))
		rw.WriteUID(imap.UID(t.msg.UID))
		rw.WriteFlags(toIMAPFlags(s.flagsForClient(t.msg)))
		if err := rw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// Copy serves COPY and UID COPY (RFC 9051 §6.4.7, UIDPLUS's COPYUID).
func (s *session) Copy(numSet imap.NumSet, destName string) (*imap.CopyData, error) {
	dest, err := s.destination(destName)
	if err != nil {
		return nil, err
	}
	targets, err := s.sel.resolve(numSet)
	if err != nil {
		return nil, err
	}
	src, dst, err := s.sel.mb.CopyTo(dest, uidsOf(targets))
	if err != nil {
		return nil, imapError(err)
	}
	return copyData(dest, src, dst), nil
}

// Move serves MOVE and UID MOVE (RFC 6851): copy, then expunge the sources;
// the EXPUNGE responses follow through the tracker.
func (s *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, destName string) error {
	if s.sel.readOnly {
		return errReadOnly
	}
	dest, err := s.destination(destName)
	if err != nil {
		return err
	}
	targets, err := s.sel.resolve(numSet)
	if err != nil {
		return err
	}
	if dest == s.sel.mb {
		return s.moveWithin(w, targets)
	}
	src, dst, err := s.sel.mb.CopyTo(dest, uidsOf(targets))
	if err != nil {
		return imapError(err)
	}
	if err := w.WriteCopyData(copyData(dest, src, dst)); err != nil {
		return err
	}
	_, err = s.sel.mb.Expunge(src)
	return imapError(err)
}

// destination is the mailbox COPY or MOVE names. It may be the selected
// one: RFC 9051 §6.4.7 and RFC 6851 §3.1 name any mailbox as target, and a
// MOVE into the selected mailbox gives the messages new UIDs at its end.
func (s *session) destination(name string) (*mailstore.Mailbox, error) {
	dest, err := s.store().Mailbox(s.user, name)
	if err != nil {
		return nil, errTryCreate
	}
	return dest, nil
}

func copyData(dest *mailstore.Mailbox, src, dst []uint32) *imap.CopyData {
	data := &imap.CopyData{UIDValidity: dest.UIDValidity()}
	for i := range src {
		data.SourceUIDs.AddNum(imap.UID(src[i]))
		data.DestUIDs.AddNum(imap.UID(dst[i]))
	}
	return data
}
