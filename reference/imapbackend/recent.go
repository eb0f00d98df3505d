package imapbackend

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/mailcheck/mailcheck/reference/mailstore"
)

// \Recent is served, not dropped. The server advertises IMAP4rev1 beside
// IMAP4rev2 because most clients speak only IMAP4rev1, and an IMAP4rev1
// session is owed \Recent (RFC 3501 §2.3.2): "Message is 'recently'
// arrived in this mailbox. This session is the first session to have been
// notified about this message; if the session is read-write, subsequent
// sessions will not see \Recent set for this message." Dropping IMAP4rev1
// would turn those clients away; IMAP4rev2 removed \Recent (RFC 9051
// Appendix E), so a session that ENABLEs IMAP4rev2 never sees it.
//
// A mailbox's messages are claimed in UID order: every UID up to
// recentBook.claimed is, or was, recent in some session. A read-write
// SELECT claims every message above it; a message arriving later is
// claimed by the first read-write session told of it. EXAMINE claims
// nothing (RFC 3501 §6.3.2: EXAMINE must not make messages lose \Recent)
// and sees as recent what nobody has claimed yet. The claims live in
// memory: after a restart every message is recent again once, as RFC 3501
// §2.3.2 asks when the server cannot tell ("that message SHOULD be
// considered recent").

// recentBook is one mailbox's claim line. It observes the mailbox to count
// arrivals, so a session looks for new messages to claim only when there
// were some.
type recentBook struct {
	mu       sync.Mutex
	claimed  uint32
	arrivals atomic.Uint64
}

func (rb *recentBook) NumMessages(uint32)                         { rb.arrivals.Add(1) }
func (rb *recentBook) Expunged(uint32)                            {}
func (rb *recentBook) FlagsChanged(uint32, uint32, []string, any) {}

var _ mailstore.Observer = (*recentBook)(nil)

// recentBooks hands out one recentBook per mailbox.
type recentBooks struct {
	mu    sync.Mutex
	books map[*mailstore.Mailbox]*recentBook
}

// of returns mb's book, observing mb from the first call on. Not to be
// called inside Mailbox.View (Observe takes the mailbox lock).
func (b *recentBooks) of(mb *mailstore.Mailbox) *recentBook {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.books == nil {
		b.books = make(map[*mailstore.Mailbox]*recentBook)
	}
	if b.books[mb] == nil {
		rb := &recentBook{}
		mb.Observe(func([]mailstore.Message) mailstore.Observer { return rb })
		b.books[mb] = rb
	}
	return b.books[mb]
}

// unclaimed counts the messages no session has claimed: STATUS RECENT.
func (rb *recentBook) unclaimed(msgs []mailstore.Message) uint32 {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	var n uint32
	for _, m := range msgs {
		if m.UID > rb.claimed {
			n++
		}
	}
	return n
}

// claim takes the messages above the claim line for which known is true
// (the session has been told of them), in UID order, and returns their
// UIDs. known stops at the first message the session does not know yet.
func (rb *recentBook) claim(msgs []mailstore.Message, known func(i int) bool) []uint32 {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	var uids []uint32
	for i, m := range msgs {
		if m.UID <= rb.claimed {
			continue
		}
		if !known(i) {
			break
		}
		uids = append(uids, m.UID)
		rb.claimed = m.UID
	}
	return uids
}

// recentView is what one selected session holds recent.
type recentView struct {
	book     *recentBook
	readOnly bool
	uids     []uint32 // ascending
	// arrivals is the book's count when the session last took its claims:
	// until it moves, there is nothing new to claim.
	arrivals uint64
}

// open starts a session's view at SELECT or EXAMINE from the messages as
// they are (called inside Mailbox.View), and returns the number for the
// "* n RECENT" response.
func (rb *recentBook) open(msgs []mailstore.Message, readOnly bool) (*recentView, uint32) {
	rv := &recentView{book: rb, readOnly: readOnly, arrivals: rb.arrivals.Load()}
	if readOnly {
		rb.mu.Lock()
		for _, m := range msgs {
			if m.UID > rb.claimed {
				rv.uids = append(rv.uids, m.UID)
			}
		}
		rb.mu.Unlock()
	} else {
		rv.uids = rb.claim(msgs, func(int) bool { return true })
	}
	return rv, uint32(len(rv.uids))
}

// rev1 reports whether the session is owed \Recent: it has not ENABLEd
// IMAP4rev2 (RFC 9051 §6.3.1).
func (s *session) rev1() bool {
	return !s.conn.EnabledCaps().Has(imap.CapIMAP4rev2)
}

// isRecent reports whether uid is recent in this session.
func (s *session) isRecent(uid uint32) bool {
	if s.sel == nil || s.recent == nil || !s.rev1() {
		return false
	}
	_, ok := slices.BinarySearch(s.recent.uids, uid)
	return ok
}

// flagsForClient is m's flags as this session reports them: with \Recent
// where it is recent here.
func (s *session) flagsForClient(m mailstore.Message) []string {
	if !s.isRecent(m.UID) {
		return m.Flags
	}
	return append(slices.Clone(m.Flags), flagRecent)
}

// arrivalsBeforePoll is the count pollRecent compares with: read before the
// tracker tells its updates, so that every arrival it counts has been told.
func (s *session) arrivalsBeforePoll() uint64 {
	if s.recent == nil {
		return 0
	}
	return s.recent.book.arrivals.Load()
}

// pollRecent claims the new messages the session has just been told of
// and says how many messages are recent here (RFC 3501 §7.3.2: RECENT is
// sent "if the size of the mailbox changes").
func (s *session) pollRecent(w *imapserver.UpdateWriter, arrivals uint64) error {
	rv := s.recent
	if rv == nil || arrivals == rv.arrivals {
		return nil
	}
	rv.arrivals = arrivals
	var known uint32
	err := s.sel.mb.View(func(msgs []mailstore.Message) {
		told := func(i int) bool { return s.sel.wireSeq(uint32(i+1)) != 0 }
		if !rv.readOnly {
			rv.uids = append(rv.uids, rv.book.claim(msgs, told)...)
		}
		for i, m := range msgs {
			if _, ok := slices.BinarySearch(rv.uids, m.UID); ok && told(i) {
				known++
			}
		}
	})
	if err != nil || !s.rev1() {
		return nil
	}
	return w.WriteNumRecent(known)
}

// flagRecent is the IMAP4rev1 session flag (RFC 3501 §2.3.2); go-imap
// keeps its name internal, as IMAP4rev2 removed it.
const flagRecent = `\Recent`
