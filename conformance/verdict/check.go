// Package verdict is the conformance result model: a Report of a run, one
// Result (a Status at a Level, with the wire transcript as evidence) per
// check and target, and the waivers and leftovers of the run. Its JSON
// form is what `mailcheck conform --json` writes and `mailcheck report`
// reads; it is stable (ReportVersion).
//
// It is a leaf package: it imports no suite, no runner and no server, so
// that a program that reads or renders reports (package reports) depends
// on the model alone. Package conformance runs the suites and fills it in;
// packages conformance and conformance/engine keep aliases of its names.
package verdict

import "time"

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

// CatalogueEntry describes a check without running it: what `mailcheck
// conform --list` shows.
type CatalogueEntry struct {
	ID       string
	Title    string
	Protocol string
	Spec     string
	Level    Level
}
