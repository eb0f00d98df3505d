// Package engine runs conformance checks: the result model (a verdict per
// check, with the wire transcript as evidence), the line-level client the
// checks drive, and the runner that runs them in parallel under timeouts.
// The suites (conformance/smtpsuite, …) register checks; package
// conformance puts targets, suites and runner together.
package engine

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Level is the requirement level of what a check tests, from the RFC's own
// wording (RFC 2119).
type Level string

// Requirement levels.
const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
	May    Level = "MAY"
)

// Status is a check's verdict.
type Status string

// Verdicts. A requirement not met is Fail for MUST and Warn for SHOULD and
// MAY; Skip means the check did not apply (with the reason); Error means it
// could not decide (a wait past the RFCs' timeouts, a broken connection,
// a server that stayed busy through every retry). Waived is a Fail, Warn or
// Error that a waiver accepts for now (mailcheck conform --waive): the
// result keeps the verdict it replaced in WaivedStatus, and the waiver.
const (
	Pass   Status = "pass"
	Fail   Status = "fail"
	Warn   Status = "warn"
	Skip   Status = "skip"
	Error  Status = "error"
	Waived Status = "waived"
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

// Result is the outcome of one check.
type Result struct {
	ID         string        `json:"id"`
	Title      string        `json:"title"`
	Protocol   string        `json:"protocol"`
	Level      Level         `json:"level"`
	Spec       string        `json:"spec"`
	Target     string        `json:"target"`
	Status     Status        `json:"status"`
	Message    string        `json:"message"`
	Duration   time.Duration `json:"-"`
	DurationMS float64       `json:"duration_ms"`
	Transcript []Line        `json:"transcript"`
	// WaivedStatus is the verdict a waiver replaced when Status is Waived.
	WaivedStatus Status `json:"waived_status,omitempty"`
	// Waiver is the waiver that matched the result: applied (Status is
	// Waived) or expired (not applied: the verdict stands).
	Waiver *WaiverNote `json:"waiver,omitempty"`
}

// WaiverNote is a waiver as a result records it.
type WaiverNote struct {
	// Source is where the waiver is written: "waivers.txt:12".
	Source string `json:"source"`
	Reason string `json:"reason"`
	// Expires is the last day the waiver applies (YYYY-MM-DD, UTC); empty
	// for a waiver without end.
	Expires string `json:"expires,omitempty"`
	// Expired: the waiver matched, but its last day has passed, so it was
	// not applied.
	Expired bool `json:"expired,omitempty"`
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
