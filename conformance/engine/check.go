// Package engine runs conformance checks: the Check a suite declares, the
// line-level client the checks drive (recording the wire transcript as
// evidence), and the runner that runs them in parallel under timeouts.
// What a run yields is the result model of package conformance/verdict
// (aliased here: Result, Status, Level, Line); the server to check is a
// target.Target. The suites (conformance/smtpsuite, …) register checks;
// package conformance puts targets, suites and runner together.
package engine

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// Check is one conformance check.
type Check struct {
	// ID is stable across releases: suites, CI filters and reports key on
	// it. Form: protocol.area.name, e.g. "smtp.data.dot-transparency".
	ID string
	// Title says in a line what is checked.
	Title string
	// Protocol is "smtp", "pop3" or "imap".
	Protocol string
	// Spec is the requirement's source: "RFC 5321 §4.5.2".
	Spec string
	// Level is the requirement level in that source.
	Level Level
	// Run performs the check against t's target and records the verdict
	// with t.Fail, t.Skip or t.Error; returning without one is a pass. A
	// returned error is an Error verdict: the check could not decide; a
	// *PreconditionError (Unmet) is a Skip, and a *BusyError (Busy) runs
	// the check again afresh, later and with fewer checks at once.
	Run func(ctx context.Context, t *T) error
	// ReadsBack marks a check that waits for its message to be delivered
	// to a mailbox: its timeout is Options.Timeout plus twice
	// Options.ReadbackTimeout (the run's control message may be waited
	// for within it, then its own).
	ReadsBack bool
}

// T is what a running check uses: its target, options, connections and
// verdict. Its methods are not safe for concurrent use; a check is one
// goroutine (the runner closes its connections from another when the
// check's context ends, under connMu).
type T struct {
	Target  Target
	Options *Options
	check   *Check
	record  *Transcript
	status  Status
	message string
	// received counts the octets read from servers (Options.MaxReceive).
	received atomic.Int64
	connMu   sync.Mutex
	conns    []*Conn
	// slow lists the waits that took SlowPhase or more (under connMu).
	slow []slowWait
	// pace is the run's limiter and ticket the check's slot in it: a
	// slow wait lowers the run's parallelism.
	pace   *Limiter
	ticket Ticket
}

// Detached returns a T for work outside any check (the end-of-run sweep of
// the messages the checks sent), named id in its notes: it dials and reads
// like a check, and its verdict and transcript go nowhere.
func Detached(id string, target Target, opts *Options) *T {
	return &T{Target: target, Options: opts, check: &Check{ID: id, Level: Must}, record: newTranscript()}
}

// Fail records that the requirement is not met: Fail for a MUST, Warn for a
// SHOULD or MAY. The first verdict stands.
func (t *T) Fail(format string, args ...any) {
	if t.status != "" {
		return
	}
	t.status = Fail
	if t.check.Level != Must {
		t.status = Warn
	}
	t.message = fmt.Sprintf(format, args...)
}

// Skip records that the check does not apply, and why (e.g. "STARTTLS not
// advertised").
func (t *T) Skip(format string, args ...any) {
	if t.status != "" {
		return
	}
	t.status, t.message = Skip, fmt.Sprintf(format, args...)
}

// Pass records a pass with a message (the default pass has none).
func (t *T) Pass(format string, args ...any) {
	if t.status != "" {
		return
	}
	t.status, t.message = Pass, fmt.Sprintf(format, args...)
}

// Note adds a line of commentary to the transcript.
func (t *T) Note(format string, args ...any) {
	t.record.add(DirNote, []byte(fmt.Sprintf(format, args...)))
}

// CloseConns closes every connection the check has opened so far: a POP3
// check does this before it cleans up, since its own open session would
// hold the maildrop lock.
func (t *T) CloseConns() {
	t.connMu.Lock()
	conns := append([]*Conn(nil), t.conns...)
	t.connMu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// Failed reports whether a verdict other than pass was recorded.
func (t *T) Failed() bool { return t.status != "" && t.status != Pass }
