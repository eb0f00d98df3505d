package imapbackend

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/reference/mailstore"
)

// sessions starts n model clients of bob, each with INBOX selected.
func (ts *testServer) sessions(n int) ([]*modelClient, func() []string) {
	mu := &sync.Mutex{}
	var violations []string
	out := make([]*modelClient, n)
	for i := range out {
		out[i] = newModelClient(ts, string(rune('A'+i)), "bob", mu, &violations)
		out[i].do("SELECT INBOX")
	}
	return out, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), violations...) }
}

// agree has every client catch up (NOOP) and compares its model with the
// mailbox.
func (ts *testServer) agree(t *testing.T, clients []*modelClient) {
	t.Helper()
	for _, c := range clients {
		c.do("NOOP")
	}
	mb, _ := ts.store.Inbox("bob")
	msgs, _ := mb.Messages()
	recentIn := map[uint32]string{}
	for _, c := range clients {
		for _, d := range c.agreesWith(msgs) {
			t.Error(d)
		}
		// RFC 3501 §2.3.2: a message is recent in one read-write
		// session at most.
		for uid, recent := range c.recent {
			if other, ok := recentIn[uid]; ok && recent {
				t.Errorf("UID %d is recent in %s and %s", uid, other, c.name)
			}
			if recent {
				recentIn[uid] = c.name
			}
		}
	}
}

func noViolations(t *testing.T, violations func() []string) {
	t.Helper()
	for _, v := range violations() {
		t.Error(v)
	}
}

// twoSessions runs script with two sessions A and B on an INBOX of n
// messages, then checks that neither was told anything inconsistent and
// both agree with the mailbox.
func twoSessions(t *testing.T, n int, script func(a, b *modelClient)) {
	t.Helper()
	ts := startIMAP(t, t.TempDir())
	for range n {
		ts.deliver("bob", testMessage)
	}
	c, violations := ts.sessions(2)
	script(c[0], c[1])
	ts.agree(t, c)
	noViolations(t, violations)
}

func appendCommand(flags string) string {
	return fmt.Sprintf("APPEND INBOX (%s) {%d+}\r\n%s", flags, len(testMessage), testMessage)
}

// A STORE answers with the flags as they are now, which include another
// session's earlier change; that change, still queued, must not be
// delivered after it and take the client's flags back (go-imap's tracker
// did: the client then believed flags the message no longer had).
func TestFlagUpdatesNeverGoBack(t *testing.T) {
	twoSessions(t, 1, func(a, b *modelClient) {
		a.do("FETCH 1 (UID FLAGS)")
		b.do(`STORE 1 +FLAGS (\Flagged)`)
		a.do(`STORE 1 +FLAGS (\Seen)`)
	})
}

// STORE .SILENT leaves out the session's own change, not another's that
// the message got meanwhile (RFC 9051 §5.2).
func TestSilentStoreStillReportsOthersChanges(t *testing.T) {
	twoSessions(t, 1, func(a, b *modelClient) {
		a.do("FETCH 1 (UID FLAGS)")
		b.do(`STORE 1 +FLAGS (\Flagged)`)
		a.do(`STORE 1 +FLAGS.SILENT (\Seen)`)
		a.do("NOOP")
		if got := a.flags[1]; got != `\Flagged \Seen` {
			t.Errorf("after its STORE .SILENT and another session's STORE, A was told (%s), want (\\Flagged \\Seen)", got)
		}
		if lines := a.do(`STORE 1 +FLAGS.SILENT (\Answered)`); len(lines) != 1 {
			t.Errorf("STORE .SILENT of the session's own change answered %q", lines)
		}
		a.do("FETCH 1 (FLAGS)") // the model does not apply .SILENT itself
	})
}

// A keyword reaches a client in FLAGS before any FETCH uses it: one set by
// another session, one the session sets itself, one on a message appended
// with it.
func TestKeywordsAnnouncedBeforeUse(t *testing.T) {
	twoSessions(t, 1, func(a, b *modelClient) {
		a.do("FETCH 1 (UID FLAGS)")
		b.do("STORE 1 +FLAGS ($Label1)")
		a.do("NOOP")
		a.do("STORE 1 +FLAGS ($Label2)")
		b.do(appendCommand("$Label3"))
		a.do("FETCH 1:* (UID FLAGS)")
		b.do("FETCH 1:* (UID FLAGS)")
	})
}

// Another session's EXPUNGE waits for a command that allows it, while the
// message it took keeps its sequence number; a message appended and
// expunged unseen is never announced at all.
func TestExpungeWaitsAndRenumbersInOrder(t *testing.T) {
	twoSessions(t, 3, func(a, b *modelClient) {
		a.do("FETCH 1:* (UID FLAGS)")
		b.do(`STORE 2 +FLAGS.SILENT (\Deleted)`)
		b.do("EXPUNGE")
		b.do(appendCommand(`\Deleted`))
		b.do(appendCommand(""))
		a.do("FETCH 1:* (UID FLAGS)")
		a.do("SEARCH ALL")
		b.do("EXPUNGE")
		a.do(`STORE 3 +FLAGS (\Answered)`)
		a.do("NOOP")
		a.do("FETCH 1:* (UID FLAGS)")
		if len(a.uids) != 3 {
			t.Errorf("A sees UIDs %v, want 3 messages", a.uids)
		}
	})
}

// Several sessions at once append, store flags and keywords, expunge,
// fetch, search and poll on one mailbox, in a seeded random mix; every
// response each gets must fit what it was told before, and at the end all
// agree with the mailbox. go-imap's tracker failed this within a few
// hundred commands (* 0 FETCH, a UID changing under a sequence number,
// flags arriving out of order, keywords before FLAGS).
func TestConcurrentSessionsKeepConsistentViews(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	for range 5 {
		ts.deliver("bob", testMessage)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	c, violations := ts.sessions(4)
	var wg sync.WaitGroup
	for i, s := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, uint64(i)))
			for range 150 {
				s.do(randomCommand(rnd, len(s.uids)))
			}
		}()
	}
	wg.Wait()
	ts.agree(t, c)
	noViolations(t, violations)
}

var stressFlags = []string{`\Seen`, `\Flagged`, `\Answered`, `\Deleted`, "$Label1", "$Label2", "$Label3", "$Label4"}

// randomCommand picks a command for a client that knows count messages.
func randomCommand(rnd *rand.Rand, count int) string {
	flag := stressFlags[rnd.IntN(len(stressFlags))]
	seqs := "1:*"
	if count > 0 {
		from := 1 + rnd.IntN(count)
		seqs = fmt.Sprintf("%d:%d", from, min(count, from+rnd.IntN(3)))
	}
	switch rnd.IntN(10) {
	case 0:
		return appendCommand(flag)
	case 1, 2:
		return fmt.Sprintf("STORE %s +FLAGS (%s)", seqs, flag)
	case 3:
		return fmt.Sprintf("STORE %s -FLAGS (%s)", seqs, flag)
	case 4:
		return "EXPUNGE"
	case 5:
		return fmt.Sprintf("FETCH %s (UID FLAGS)", seqs)
	case 6:
		return "UID FETCH 1:* (FLAGS)"
	case 7:
		if strings.HasPrefix(flag, `\`) {
			return "SEARCH " + flag[1:]
		}
		return "SEARCH KEYWORD " + flag
	default:
		return "NOOP"
	}
}

// A session that sends no command holds at most one update of each kind
// per message: repeated flag changes merge, and a message appended and
// expunged unseen leaves nothing to deliver.
func TestUpdateQueueStaysBounded(t *testing.T) {
	v := newView(nil, nil, recentClaim{})
	other := &view{}
	for i := range 1000 {
		v.Appended(1, mailstore.Message{UID: 7})
		v.FlagsChanged(1, 7, []string{`\Seen`}, other)
		v.FlagsChanged(1, 7, []string{`\Flagged`}, v)
		v.Expunged(1, 7)
		v.Appended(uint32(i+1), mailstore.Message{UID: uint32(100 + i)})
	}
	for range 1000 {
		v.FlagsChanged(1, 100, []string{`\Seen`}, v)
	}
	var live []update
	for _, u := range v.queue.take() {
		if u.kind != updateNone {
			live = append(live, u)
		}
	}
	if len(live) != 1001 {
		t.Fatalf("%d updates pending, want 1000 appends and 1 flag change", len(live))
	}
	if f := live[len(live)-1]; f.kind != updateFlags || f.uid != 100 || f.others {
		t.Errorf("merged flag update %+v, want UID 100, the session's own", f)
	}
}
