package faultimap

import (
	"slices"
	"strconv"
	"strings"
	"sync"

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
// EXPUNGE, but its tracker never takes an expunge in, so it goes on
// numbering the messages as before; the changes queued behind an expunge
// (another session's, or a later EXISTS) are never told either.
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

// ExpungeDuringFetch: expunges by other sessions are announced in the
// responses to FETCH, STORE and SEARCH (imap.expunge.not-during-fetch).
// go-imap holds them back there, as it must; the fault writes them on the
// raw connection between two responses (each response is flushed whole),
// and the session still tells them again later. It covers the expunges of
// EXPUNGE, UID EXPUNGE and CLOSE in IMAP sessions of the same server.
var ExpungeDuringFetch = &Wrapper{forServer: func() func(imapserver.Session, *imapserver.Conn) imapserver.Session {
	selected := &selections{by: make(map[string][]*expungeTeller)}
	return func(s imapserver.Session, conn *imapserver.Conn) imapserver.Session {
		return &expungeTeller{passOn: passOn{s}, conn: conn, selected: selected}
	}
}}

// selections are the sessions of one server by the mailbox they have
// selected.
type selections struct {
	mu sync.Mutex
	by map[string][]*expungeTeller
}

func (sel *selections) enter(key string, s *expungeTeller) {
	sel.mu.Lock()
	defer sel.mu.Unlock()
	sel.by[key] = append(sel.by[key], s)
}

func (sel *selections) leave(key string, s *expungeTeller) {
	sel.mu.Lock()
	defer sel.mu.Unlock()
	sel.by[key] = slices.DeleteFunc(sel.by[key], func(o *expungeTeller) bool { return o == s })
}

// others are the sessions other than s that have key selected.
func (sel *selections) others(key string, s *expungeTeller) []*expungeTeller {
	sel.mu.Lock()
	defer sel.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(sel.by[key]), func(o *expungeTeller) bool { return o == s })
}

type expungeTeller struct {
	passOn
	conn     *imapserver.Conn
	selected *selections
	user     string
	mailbox  string // the key of the selected mailbox, "" if none

	mu      sync.Mutex
	pending []uint32 // expunges to announce, in the order to announce them
}

func (s *expungeTeller) Login(username, password string) error {
	s.user = username
	return s.passOn.Login(username, password)
}

func (s *expungeTeller) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	s.leave()
	data, err := s.passOn.Select(name, options)
	if err == nil {
		if strings.EqualFold(name, "INBOX") {
			name = "INBOX"
		}
		s.mailbox = s.user + "\x00" + name
		s.selected.enter(s.mailbox, s)
	}
	return data, err
}

func (s *expungeTeller) Unselect() error {
	s.leave()
	return s.passOn.Unselect()
}

func (s *expungeTeller) Close() error {
	s.leave()
	return s.passOn.Close()
}

func (s *expungeTeller) leave() {
	if s.mailbox != "" {
		s.selected.leave(s.mailbox, s)
		s.mailbox = ""
	}
}

func (s *expungeTeller) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	// Numbered as this session knows them, which the sessions sharing
	// the mailbox do too: each is told of every change.
	seqs, err := doomed(s.passOn, uids)
	if err != nil {
		return err
	}
	if err := s.passOn.Expunge(w, uids); err != nil {
		return err
	}
	for _, o := range s.selected.others(s.mailbox, s) {
		o.mu.Lock()
		o.pending = append(o.pending, seqs...)
		o.mu.Unlock()
	}
	return nil
}

func (s *expungeTeller) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if err := s.passOn.Poll(w, allowExpunge); err != nil {
		return err
	}
	s.mu.Lock()
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	if allowExpunge || len(pending) == 0 {
		return nil
	}
	var b []byte
	for _, seq := range pending {
		b = append(b, "* "+strconv.FormatUint(uint64(seq), 10)+" EXPUNGE\r\n"...)
	}
	_, err := s.conn.NetConn().Write(b)
	return err
}
