package faultimap

import (
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// NoMailboxUpdates: a session with a mailbox selected is never told of
// changes to it: no EXISTS, EXPUNGE or FETCH FLAGS, not even for its own
// EXPUNGE (imap.consistency.count-uids, imap.mailbox.new-mail-exists).
var NoMailboxUpdates = eachSession(func(s passOn) imapserver.Session { return noUpdates{s} })

type noUpdates struct{ passOn }

func (noUpdates) Poll(*imapserver.UpdateWriter, bool) error { return nil }

func (noUpdates) Idle(_ *imapserver.UpdateWriter, stop <-chan struct{}) error {
	<-stop
	return nil
}

// CloseKeepsDeleted: CLOSE does not expunge the messages marked \Deleted
// (imap.close.expunges-silently).
var CloseKeepsDeleted = eachSession(func(s passOn) imapserver.Session { return closeKeeps{s} })

type closeKeeps struct{ passOn }

func (s closeKeeps) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	// go-imap gives CLOSE an ExpungeWriter without a connection, since
	// CLOSE expunges silently.
	if w != nil && *w == (imapserver.ExpungeWriter{}) {
		return nil
	}
	return s.passOn.Expunge(w, uids)
}

// SeqNumsFixedAtSelect: sequence numbers stay as they were at SELECT: an
// EXPUNGE does not renumber the messages after it
// (imap.expunge.renumber). The session tells the client of its own
// EXPUNGE, but its view is never let deliver one, so the view holds every
// expunge back (as during a FETCH) and goes on numbering the messages as
// before; an expunged message is left out of the answers, as one another
// session expunged is until it is told. Everything else reaches the
// client as from the correct server: the view delivers EXISTS and flag
// changes past the expunges it holds, as they renumber nothing.
var SeqNumsFixedAtSelect = eachSession(func(s passOn) imapserver.Session { return seqNumsFixed{s} })

type seqNumsFixed struct{ passOn }

func (s seqNumsFixed) Poll(w *imapserver.UpdateWriter, _ bool) error {
	return s.passOn.Poll(w, false)
}

func (s seqNumsFixed) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if err := s.passOn.Poll(w, false); err != nil {
		return err
	}
	<-stop
	return nil
}

func (s seqNumsFixed) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	seqs, err := doomed(s.passOn, uids)
	if err != nil {
		return err
	}
	if err := s.passOn.Expunge(w, uids); err != nil {
		return err
	}
	if w == nil || *w == (imapserver.ExpungeWriter{}) {
		return nil // CLOSE expunges silently
	}
	for _, seq := range seqs {
		if err := w.WriteExpunge(seq); err != nil {
			return err
		}
	}
	return nil
}

// doomed lists the sequence numbers of the messages EXPUNGE (or UID
// EXPUNGE of uids) is about to remove, highest first, so that each number
// holds when it is told.
func doomed(s imapserver.Session, uids *imap.UIDSet) ([]uint32, error) {
	criteria := &imap.SearchCriteria{Flag: []imap.Flag{imap.FlagDeleted}}
	if uids != nil {
		criteria.UID = []imap.UIDSet{*uids}
	}
	data, err := s.Search(imapserver.NumKindSeq, criteria, &imap.SearchOptions{})
	if err != nil {
		return nil, err
	}
	seqs := data.AllSeqNums()
	slices.Reverse(seqs)
	return seqs, nil
}
