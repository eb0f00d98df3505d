package imapbackend

import (
	"slices"
	"strings"
	"sync"

	"github.com/mailcheck/mailcheck/reference/mailstore"
)

// view is one session's view of its selected mailbox: the messages as the
// client knows them, by sequence number, and the changes to the mailbox
// it has not been told of yet, in the order the mailbox made them.
//
// A message's sequence number is its position in uids, and it changes only
// when the client is sent an EXPUNGE for an earlier message (RFC 9051
// §2.3.1.2, §7.5.1): changes by other sessions reach the view as updates
// and renumber nothing until they are delivered. Every session's updates
// come from one mailstore.Observer call per change, made under the mailbox
// lock, so all sessions hear of all changes in one order.
//
// uids, told, announced and the recent set belong to the session's
// goroutine (commands, then IDLE, never both at once); the queue is shared
// with the mailbox, which fills it, and claim is read by both, never
// written after SELECT.
type view struct {
	// uids are the UIDs of the messages in the view, ascending, by
	// sequence number - 1: the client knows the first told of them; the
	// others were appended by updates not yet announced with EXISTS.
	uids []uint32
	told int
	// announced are the keywords the client was sent in FLAGS.
	announced keywordSet
	// recent is the messages recent in this session (recent.go), claim
	// how it takes them; the queue carries the verdict on each new one.
	recent recentSet
	claim  recentClaim
	// recentTold is the number in the last RECENT response; resized says
	// an EXISTS or EXPUNGE was written since (deliver's tellRecent).
	recentTold uint32
	resized    bool

	queue updateQueue
}

// newView starts a view at the messages as they are at SELECT, with the
// keywords announced in its FLAGS response, taking the recent ones as
// claim says. Called with the mailbox locked (Mailbox.Observe).
func newView(current []mailstore.Message, keywords []string, claim recentClaim) *view {
	v := &view{uids: make([]uint32, len(current)), told: len(current), claim: claim}
	v.recent.uids = claim.open(current)
	v.queue.init()
	v.announced.add(keywords)
	for i, m := range current {
		v.uids[i] = m.UID
		v.announced.add(m.Flags)
	}
	v.recentTold = v.recent.count(v.known())
	return v
}

var _ mailstore.Observer = (*view)(nil)

// Appended queues the new message for an EXISTS, recent here if this
// view is the first read-write one told of it (recent.go).
func (v *view) Appended(_ uint32, m mailstore.Message) {
	v.queue.push(update{kind: updateAdded, uid: m.UID, flags: m.Flags, recent: v.claim.arrived(m.UID)})
}

// Expunged queues an EXPUNGE.
func (v *view) Expunged(_, uid uint32) {
	v.queue.push(update{kind: updateExpunged, uid: uid})
}

// FlagsChanged queues a FETCH FLAGS. source is the view whose session made
// the change: that session reports its own changes in its command's
// response (see consume).
func (v *view) FlagsChanged(_, uid uint32, flags []string, source any) {
	v.queue.pushFlags(uid, flags, source != v)
}

// known is the UIDs of the messages the client knows, by sequence number
// - 1: all of the view between commands, as every command ends with
// deliver, which sends EXISTS for the rest.
func (v *view) known() []uint32 { return v.uids[:v.told] }

// seqOf is the sequence number of the message with uid, if in the view.
func (v *view) seqOf(uid uint32) (uint32, bool) {
	i, ok := slices.BinarySearch(v.uids, uid)
	return uint32(i + 1), ok
}

// remove takes the message with sequence number seq out of the view: the
// client has just been told of its EXPUNGE, or never knew of it.
func (v *view) remove(seq uint32) {
	v.recent.drop(v.uids[seq-1])
	v.uids = slices.Delete(v.uids, int(seq-1), int(seq))
	if int(seq) <= v.told {
		v.told--
	}
}

// flagsForClient is a message's flags as the session reports them: with
// \Recent where it is recent here and the session shows it.
func (v *view) flagsForClient(uid uint32, flags []string) []string {
	if !v.claim.shown || !v.recent.has(uid) {
		return flags
	}
	return append(slices.Clone(flags), flagRecent)
}

// consume takes the pending flag update of uid off the queue, as the
// session is about to report the message's flags as they are now, which
// include it. It reports whether another session took part in the change
// (so a STORE .SILENT must still report it). Call it while the mailbox is
// locked (mailstore.Mailbox.View), so no update is queued between reading
// the flags and taking their update.
func (v *view) consume(uid uint32) (others bool) {
	return v.queue.takeFlags(uid)
}

// keywordSet is the keywords a client was told of, in the order told.
// Keywords are case-insensitive (RFC 9051 §2.3.2): a message may carry one
// in another spelling than FLAGS announced, and that is no new keyword.
type keywordSet struct {
	list []string
	seen map[string]bool // by strings.ToLower
}

// add adds the keywords among flags and reports whether any was new.
func (k *keywordSet) add(flags []string) bool {
	grew := false
	for _, f := range flags {
		if isSystemFlag(f) || k.seen[strings.ToLower(f)] {
			continue
		}
		if k.seen == nil {
			k.seen = make(map[string]bool)
		}
		k.seen[strings.ToLower(f)] = true
		k.list = append(k.list, f)
		grew = true
	}
	return grew
}

func isSystemFlag(f string) bool { return len(f) > 0 && f[0] == '\\' }

// updateQueue is the changes a view has not delivered yet, in mailbox
// order. A flag update replaces the pending one of the same message in
// place (flags are sent whole, so the newer supersedes the older), and a
// message appended and expunged before either is delivered leaves no
// trace: the queue holds at most one update of each kind per message, so
// it stays bounded by the mailbox, however long a session goes without a
// command.
type updateQueue struct {
	mu      sync.Mutex
	pending []update
	// base is the position of pending[0] in the mailbox's order since
	// SELECT; flagAt and addedAt map a UID to the position of its flag
	// update and of its appending.
	base    int
	flagAt  map[uint32]int
	addedAt map[uint32]int
	// wake has a value when updates arrived since the last take (IDLE).
	wake chan struct{}
}

type updateKind int

const (
	updateNone updateKind = iota // superseded: delivered with a response
	updateAdded
	updateExpunged
	updateFlags
)

// update is one change to the mailbox, by UID.
type update struct {
	kind  updateKind
	uid   uint32
	flags []string
	// others: another session took part in this flag change.
	others bool
	// recent: the message added is recent in this session.
	recent bool
}

func (q *updateQueue) init() {
	q.flagAt = make(map[uint32]int)
	q.addedAt = make(map[uint32]int)
	q.wake = make(chan struct{}, 1)
}

func (q *updateQueue) push(u update) {
	q.mu.Lock()
	defer q.signal()
	defer q.mu.Unlock()
	switch u.kind {
	case updateAdded:
		q.addedAt[u.uid] = q.base + len(q.pending)
	case updateExpunged:
		// The message is gone: its last flags need not be sent, nor,
		// if the client never heard of it, anything at all.
		q.dropFlagsLocked(u.uid)
		if pos, ok := q.addedAt[u.uid]; ok {
			q.pending[pos-q.base] = update{kind: updateNone}
			delete(q.addedAt, u.uid)
			return
		}
	}
	q.pending = append(q.pending, u)
}

func (q *updateQueue) pushFlags(uid uint32, flags []string, others bool) {
	q.mu.Lock()
	if pos, ok := q.flagAt[uid]; ok {
		u := &q.pending[pos-q.base]
		u.flags, u.others = flags, u.others || others
	} else {
		q.flagAt[uid] = q.base + len(q.pending)
		q.pending = append(q.pending, update{kind: updateFlags, uid: uid, flags: flags, others: others})
	}
	q.mu.Unlock()
	q.signal()
}

func (q *updateQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// takeFlags supersedes the pending flag update of uid; see view.consume.
func (q *updateQueue) takeFlags(uid uint32) (others bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	pos, ok := q.flagAt[uid]
	if !ok {
		return false
	}
	others = q.pending[pos-q.base].others
	q.dropFlagsLocked(uid)
	return others
}

func (q *updateQueue) dropFlagsLocked(uid uint32) {
	if pos, ok := q.flagAt[uid]; ok {
		q.pending[pos-q.base] = update{kind: updateNone}
		delete(q.flagAt, uid)
	}
}

// take empties the queue and returns what was in it.
func (q *updateQueue) take() []update {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.pending
	q.base += len(out)
	q.pending = nil
	clear(q.flagAt)
	clear(q.addedAt)
	return out
}

// putBack returns expunges that could not be delivered yet to the front of
// the queue, ahead of everything queued since take.
func (q *updateQueue) putBack(held []update) {
	if len(held) == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.base -= len(held)
	q.pending = append(slices.Clip(held), q.pending...)
}
