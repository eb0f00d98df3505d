package imapbackend

import (
	"sync"

	"github.com/emersion/go-imap/v2/imapserver"
)

// Faults break the backend in one way each, so that every check of the IMAP
// conformance suite (conformance/imapsuite) can be shown to fail against a
// server with the fault it exists to catch. The zero value is the correct
// server; only tests set faults. Each field names the check it is for.
//
// Faults in go-imap's wire layer (syntax errors, tagged replies, BYE,
// continuation requests, LOGINDISABLED) are not here: the suite's proofs
// inject those with a proxy in front of the server.
type Faults struct {
	// ExamineSetsSeen: FETCH BODY[] sets \Seen in a mailbox opened with
	// EXAMINE (imap.examine.no-seen).
	ExamineSetsSeen bool
	// CreateExistingSucceeds: CREATE of a mailbox that exists answers OK
	// (imap.create.existing).
	CreateExistingSucceeds bool
	// CreatedSessionOnly: a mailbox is listed only to the session that
	// created it, as if CREATE were not persisted (imap.create.persists).
	CreatedSessionOnly bool
	// DeleteInboxSucceeds: DELETE INBOX answers OK (and deletes nothing)
	// (imap.delete.inbox).
	DeleteInboxSucceeds bool
	// DeleteMissingSucceeds: DELETE of a mailbox that does not exist
	// answers OK (imap.delete.missing).
	DeleteMissingSucceeds bool
	// AppendCreatesMailbox: APPEND to a missing mailbox creates it and
	// succeeds (imap.append.missing-mailbox).
	AppendCreatesMailbox bool
	// AppendNoTryCreate: APPEND to a missing mailbox answers NO without
	// the [TRYCREATE] response code (imap.append.trycreate).
	AppendNoTryCreate bool
	// AppendAltersMessage: APPEND stores the message with a header field
	// added in front (imap.append.content-exact).
	AppendAltersMessage bool
	// StatusCountOffByOne: STATUS reports one message more than the
	// mailbox holds (imap.status.messages).
	StatusCountOffByOne bool
	// UIDsNotAscending: FETCH reports the UIDs of the first two messages
	// it answers for swapped (imap.uid.ascending).
	UIDsNotAscending bool
	// UIDNextTooLow: SELECT reports UIDNEXT one lower than it is, which is
	// the highest UID in use while the newest message is there
	// (imap.uid.below-uidnext).
	UIDNextTooLow bool
	// UIDValidityPerLogin: every login sees a new, higher UIDVALIDITY
	// (the same all through its session), with the same UIDs: allowed, but
	// UIDs SHOULD persist across sessions (imap.uidvalidity.stable).
	UIDValidityPerLogin bool
	// FixedUIDValidity: every mailbox reports UIDVALIDITY 1, so a mailbox
	// deleted and created again reuses both UIDVALIDITY and its UIDs
	// (imap.uidvalidity.recreate).
	FixedUIDValidity bool
	// UIDFetchOmitsUID: FETCH responses never carry UID, not even those
	// to UID FETCH (imap.uid.fetch-includes-uid).
	UIDFetchOmitsUID bool
	// StarRangeExact: a UID range "n:*" with n above the highest UID
	// matches nothing (imap.uid.star-range).
	StarRangeExact bool
	// SeqNumsFixedAtSelect: sequence numbers stay as they were at SELECT:
	// an EXPUNGE does not renumber the messages after it
	// (imap.expunge.renumber).
	SeqNumsFixedAtSelect bool
	// FlagsSessionOnly: STORE answers with the new flags but never writes
	// them to the mailbox, so the next session does not see them
	// (imap.flags.persist).
	FlagsSessionOnly bool
	// StoreNoFetch: STORE without .SILENT answers no FETCH
	// (imap.store.fetch-response).
	StoreNoFetch bool
	// StoreIgnoresSilent: STORE answers FETCH even with .SILENT
	// (imap.store.silent).
	StoreIgnoresSilent bool
	// BodyNoSeen: FETCH BODY[] does not set \Seen
	// (imap.fetch.body-sets-seen).
	BodyNoSeen bool
	// PeekSetsSeen: FETCH BODY.PEEK[] sets \Seen (imap.fetch.peek-no-seen).
	PeekSetsSeen bool
	// SizeOffByOne: RFC822.SIZE is one more than the size of BODY[]
	// (imap.fetch.size-matches).
	SizeOffByOne bool
	// CloseKeepsDeleted: CLOSE does not expunge the messages marked
	// \Deleted (imap.close.expunges-silently).
	CloseKeepsDeleted bool
	// ExpungeDuringFetch: expunges by other sessions are announced in the
	// responses to FETCH, STORE and SEARCH (imap.expunge.not-during-fetch).
	ExpungeDuringFetch bool
	// NoMailboxUpdates: a session with a mailbox selected is never told of
	// changes to it: no EXISTS, EXPUNGE or FETCH FLAGS, not even for its
	// own EXPUNGE (imap.consistency.count-uids, imap.mailbox.new-mail-exists).
	NoMailboxUpdates bool
	// NoFlagUpdates: flag changes are not announced to the other sessions
	// that have the mailbox selected (imap.consistency.flags).
	NoFlagUpdates bool
}

// faults returns the backend's faults.
func (s *session) faults() *Faults { return &s.backend.opts.Faults }

// createdBy records, for Faults.CreatedSessionOnly, which session created
// which mailbox.
type createdBy struct {
	mu    sync.Mutex
	names map[string]*session // user + "\x00" + name → creator
}

func (c *createdBy) add(s *session, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names == nil {
		c.names = make(map[string]*session)
	}
	c.names[s.user+"\x00"+name] = s
}

// hidden reports whether name was created by a session other than s.
func (c *createdBy) hidden(s *session, name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	creator, ok := c.names[s.user+"\x00"+name]
	return ok && creator != s
}

// isCloseExpunge reports whether Expunge runs for CLOSE: imapserver gives
// CLOSE an ExpungeWriter without a connection, since CLOSE expunges
// silently.
func isCloseExpunge(w *imapserver.ExpungeWriter) bool {
	return w != nil && *w == (imapserver.ExpungeWriter{})
}
