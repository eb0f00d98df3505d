package imapbackend

import (
	"slices"
	"sync"

	"github.com/emersion/go-imap/v2"

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
// recentBook.claimed is, or was, recent in some session. Claims are made
// under the mailbox lock, where the sessions' views are told of messages:
// a read-write SELECT claims every message of its snapshot above the line
// (newView), and a message arriving later is claimed by the first
// read-write view the mailbox tells of it (view.Appended), so two
// sessions never both hold it. EXAMINE claims nothing (RFC 3501 §6.3.2:
// EXAMINE must not make messages lose \Recent): it sees as recent what
// nobody had claimed at its snapshot, and every message arriving while it
// is open, as it is told of it no later than anyone. The claims live in
// memory: after a restart every message is recent again once, as RFC 3501
// §2.3.2 asks when the server cannot tell ("that message SHOULD be
// considered recent").

// recentBook is one mailbox's claim line. Claims are made with the mailbox
// locked; mu lets STATUS read the line outside that lock.
type recentBook struct {
	mu      sync.Mutex
	claimed uint32
}

// recentBooks hands out one recentBook per mailbox.
type recentBooks struct {
	mu    sync.Mutex
	books map[*mailstore.Mailbox]*recentBook
}

// of returns mb's book.
func (b *recentBooks) of(mb *mailstore.Mailbox) *recentBook {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.books == nil {
		b.books = make(map[*mailstore.Mailbox]*recentBook)
	}
	if b.books[mb] == nil {
		b.books[mb] = &recentBook{}
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

// arrived reports whether a message with uid, of which a session is being
// told, is recent in that session, and claims it for a read-write one.
// Called with the mailbox locked.
func (rb *recentBook) arrived(uid uint32, readOnly bool) bool {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	if uid <= rb.claimed {
		return false
	}
	if !readOnly {
		rb.claimed = uid
	}
	return true
}

// recentClaim is how a view takes part in its mailbox's claims.
type recentClaim struct {
	book     *recentBook
	readOnly bool
	// shown: the session reports \Recent (IMAP4rev1; ENABLE is refused
	// while a mailbox is selected, RFC 5161 §3.1, so it holds for the
	// view's life). A session that does not show \Recent still claims:
	// it has been told of the message first.
	shown bool
}

// open returns the UIDs recent in a new view among the messages of its
// snapshot, ascending, claiming them for a read-write session. Called with
// the mailbox locked, from Mailbox.Observe.
func (rc recentClaim) open(current []mailstore.Message) []uint32 {
	var uids []uint32
	for _, m := range current {
		if rc.arrived(m.UID) {
			uids = append(uids, m.UID)
		}
	}
	return uids
}

// arrived reports whether a message the view is being told of is recent
// in it; see recentBook.arrived.
func (rc recentClaim) arrived(uid uint32) bool {
	return rc.book != nil && rc.book.arrived(uid, rc.readOnly)
}

// recentSet is the UIDs recent in one session, ascending; it belongs to
// the session's goroutine.
type recentSet struct{ uids []uint32 }

func (r *recentSet) has(uid uint32) bool {
	_, ok := slices.BinarySearch(r.uids, uid)
	return ok
}

// add records a message delivered to the view as recent; UIDs arrive in
// ascending order.
func (r *recentSet) add(uid uint32) { r.uids = append(r.uids, uid) }

// drop forgets an expunged message.
func (r *recentSet) drop(uid uint32) {
	if i, ok := slices.BinarySearch(r.uids, uid); ok {
		r.uids = slices.Delete(r.uids, i, i+1)
	}
}

// count is the number for a "* n RECENT" response: the messages recent
// here that the client knows, those up to its last known UID (the set
// holds no expunged message, and the messages not yet announced are the
// newest).
func (r *recentSet) count(known []uint32) uint32 {
	if len(known) == 0 {
		return 0
	}
	n, _ := slices.BinarySearch(r.uids, known[len(known)-1]+1)
	return uint32(n)
}

// rev1 reports whether the session is owed \Recent: it has not ENABLEd
// IMAP4rev2 (RFC 9051 §6.3.1).
func (s *session) rev1() bool {
	return !s.conn.EnabledCaps().Has(imap.CapIMAP4rev2)
}

// flagsForClient is m's flags as this session reports them: with \Recent
// where it is recent here.
func (s *session) flagsForClient(m mailstore.Message) []string {
	return s.sel.view.flagsForClient(m.UID, m.Flags)
}

// flagRecent is the IMAP4rev1 session flag (RFC 3501 §2.3.2); go-imap
// keeps its name internal, as IMAP4rev2 removed it.
const flagRecent = `\Recent`
