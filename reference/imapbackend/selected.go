package imapbackend

import (
	"cmp"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/mailcheck/mailcheck/reference/mailstore"
)

// selected is the selected state of a session (RFC 9051 §3.3).
type selected struct {
	mb *mailstore.Mailbox
	// view is the mailbox as this session's client knows it; stop
	// unregisters it from the mailbox.
	view     *view
	stop     func()
	readOnly bool
	// saved is the result SEARCH RETURN (SAVE) kept for "$" (RFC 5182).
	saved imap.UIDSet
}

func (sel *selected) close() { sel.stop() }

// target is a message an operation applies to: its sequence number in the
// session's view, and the message as the mailbox holds it now.
type target struct {
	seq uint32
	msg mailstore.Message
	// others: the message's flags were changed by another session since
	// this one was last told them (view.consume).
	others bool
}

// Select serves SELECT and EXAMINE. On failure no mailbox is selected:
// imapserver has already closed the previous one.
func (s *session) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	mb, err := s.store().Mailbox(s.user, name)
	if err != nil {
		return nil, imapError(err)
	}
	// Read these before Observe, which holds the mailbox lock they take.
	// A keyword or message added meanwhile is in the snapshot, and the
	// view learns of it from there.
	uidNext := mb.UIDNext()
	keywords := mb.Keywords()
	room := mb.KeywordRoom()
	claim := recentClaim{book: s.backend.recent.of(mb), readOnly: options.ReadOnly, shown: s.rev1()}
	var data *imap.SelectData
	var v *view
	stop, err := mb.Observe(func(current []mailstore.Message) mailstore.Observer {
		v = newView(current, keywords, claim)
		data = selectData(current, uidNext)
		data.NumRecent = v.recentTold
		return v
	})
	if err != nil {
		return nil, imapError(err)
	}
	data.UIDValidity = mb.UIDValidity()
	data.Flags = mailboxFlags(v.announced.list)
	if !options.ReadOnly {
		// RFC 9051 §7.1: PERMANENTFLAGS lists what STORE keeps; \* when new
		// keywords can be created. A read-only mailbox keeps none.
		data.PermanentFlags = slices.Clone(data.Flags)
		if room {
			data.PermanentFlags = append(data.PermanentFlags, imap.FlagWildcard)
		}
	}
	s.sel = &selected{mb: mb, view: v, stop: stop, readOnly: options.ReadOnly}
	return data, nil
}

// selectData is what SELECT reports of the messages in current.
func selectData(current []mailstore.Message, uidNext uint32) *imap.SelectData {
	data := &imap.SelectData{NumMessages: uint32(len(current)), UIDNext: imap.UID(uidNext)}
	for i, m := range current {
		if m.UID >= uidNext {
			data.UIDNext = imap.UID(m.UID + 1)
		}
		if data.FirstUnseenSeqNum == 0 && !slices.Contains(m.Flags, mailstore.FlagSeen) {
			data.FirstUnseenSeqNum = uint32(i + 1)
		}
	}
	return data
}

func (s *session) Unselect() error {
	if s.sel != nil {
		s.sel.close()
		s.sel = nil
	}
	return nil
}

// resolve lists the UIDs a number set names, in sequence order, in the
// session's view: sequence numbers are the client's (RFC 9051 §2.3.1.2),
// "*" is the last message it knows (RFC 9051 §6.4.4, §9: seq-number), and
// "$" is the saved search. A message appended since the client's last
// EXISTS is named by nothing, not even a UID: the client does not know it.
func (sel *selected) resolve(numSet imap.NumSet) []uint32 {
	if imap.IsSearchRes(numSet) {
		numSet = sel.saved
	}
	known := sel.view.known()
	var out []uint32
	switch set := numSet.(type) {
	case imap.SeqSet:
		set = staticSeqSet(set, uint32(len(known)))
		for i, uid := range known {
			if set.Contains(uint32(i + 1)) {
				out = append(out, uid)
			}
		}
	case imap.UIDSet:
		var max imap.UID
		if len(known) > 0 {
			max = imap.UID(known[len(known)-1])
		}
		set = staticUIDSet(set, max)
		for _, uid := range known {
			if set.Contains(imap.UID(uid)) {
				out = append(out, uid)
			}
		}
	}
	return out
}

// messages returns the messages with the given UIDs (in the view) as the
// mailbox holds them now, with their sequence numbers in the view. A
// message expunged by another session and not yet announced is left out
// (RFC 2180 §4.1.2). For each UID consume reports true for, the pending
// flag update is taken off the queue (view.consume): the caller reports
// the flags as they are now.
func (sel *selected) messages(uids []uint32, consume func(uid uint32) bool) ([]target, error) {
	var out []target
	err := sel.mb.View(func(msgs []mailstore.Message) {
		for _, uid := range uids {
			j, ok := slices.BinarySearchFunc(msgs, uid, func(m mailstore.Message, uid uint32) int { return cmp.Compare(m.UID, uid) })
			if !ok {
				continue
			}
			seq, _ := sel.view.seqOf(uid)
			t := target{seq: seq, msg: msgs[j]}
			if consume != nil && consume(uid) {
				t.others = sel.view.consume(uid)
			}
			out = append(out, t)
		}
	})
	return out, imapError(err)
}

// all reports true for every UID: see messages.
func all(uint32) bool { return true }

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

// Expunge serves EXPUNGE, UID EXPUNGE and the expunge of CLOSE. The
// EXPUNGE responses reach this session (and others) through its view.
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
// of the change through their views; this one gets FETCH FLAGS here unless
// .SILENT.
func (s *session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, _ *imap.StoreOptions) error {
	if s.sel.readOnly {
		return errReadOnly
	}
	storable, err := storableFlags(flags.Flags)
	if err != nil {
		return err
	}
	uids := s.sel.resolve(numSet)
	op := map[imap.StoreFlagsOp]mailstore.StoreOp{imap.StoreFlagsSet: mailstore.FlagsSet, imap.StoreFlagsAdd: mailstore.FlagsAdd, imap.StoreFlagsDel: mailstore.FlagsRemove}[flags.Op]
	if _, err := s.sel.mb.SetFlags(uids, op, storable, s.sel.view); err != nil {
		return imapError(err)
	}
	targets, err := s.sel.messages(uids, all)
	if err != nil {
		return err
	}
	// Report the flags as they are now, for every message named, changed or
	// not (RFC 9051 §6.4.6). With .SILENT the client knows the result of
	// its own change; only a message another session changed too is
	// reported (RFC 9051 §5.2: flag updates are sent unasked).
	silent := flags.Silent
	report := slices.DeleteFunc(targets, func(t target) bool { return silent && !t.others })
	return s.writeFlags(w, report)
}

// writeFlags answers with FETCH (UID FLAGS) for each target, after FLAGS
// if they use a keyword the client has not been told of.
func (s *session) writeFlags(w *imapserver.FetchWriter, targets []target) error {
	flagSets := make([][]string, len(targets))
	for i, t := range targets {
		flagSets[i] = t.msg.Flags
	}
	if err := s.announceInline(flagSets); err != nil {
		return err
	}
	for _, t := range targets {
		rw := w.CreateMessage(t.seq)
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
	src, dst, err := s.sel.mb.CopyTo(dest, s.sel.resolve(numSet))
	if err != nil {
		return nil, imapError(err)
	}
	return copyData(dest, src, dst), nil
}

// Move serves MOVE and UID MOVE (RFC 6851): copy, then expunge the sources;
// the EXPUNGE responses follow through the view.
func (s *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, destName string) error {
	if s.sel.readOnly {
		return errReadOnly
	}
	dest, err := s.destination(destName)
	if err != nil {
		return err
	}
	uids := s.sel.resolve(numSet)
	if dest == s.sel.mb {
		return s.moveWithin(w, uids)
	}
	src, dst, err := s.sel.mb.CopyTo(dest, uids)
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
