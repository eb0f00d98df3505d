package verdict

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/target"
)

// Target is a server a report covers.
type Target = target.Target

// FailOn selects which verdicts make a run fail.
type FailOn string

const (
	// FailOnMust: a MUST not met (fail) or a check that could not decide
	// (error) fails the run.
	FailOnMust FailOn = "must"
	// FailOnShould also fails the run on a SHOULD or MAY not met (warn).
	FailOnShould FailOn = "should"
)

// ReportKind identifies a conformance report among the JSON files `mailcheck
// report` reads.
const ReportKind = "mailcheck.conformance"

// ReportVersion is the version of the JSON model; it changes only when a
// field changes meaning or goes away. Additions keep it: the status
// "waived" with a result's waived_status and waiver, and the report's
// waivers and strict_waivers, came in version 1 (a reader that does not
// know them reads the rest as before).
const ReportVersion = 1

// Report is the result of a run. Its JSON form is stable (ReportVersion).
type Report struct {
	Kind    string `json:"kind"`
	Version int    `json:"version"`
	// Tool is the mailcheck version that made the report.
	Tool       string    `json:"tool"`
	Started    time.Time `json:"started"`
	DurationMS float64   `json:"duration_ms"`
	Targets    []Target  `json:"targets"`
	// Summary counts the checks by status.
	Summary map[Status]int `json:"summary"`
	// Checks holds one result per check run, in catalogue order per target.
	Checks []Result `json:"checks"`
	// Waivers are the waivers the run was given (mailcheck conform
	// --waive), each with what it did; none without.
	Waivers []WaiverRecord `json:"waivers,omitempty"`
	// StrictWaivers: a stale waiver fails the run (--strict-waivers).
	StrictWaivers bool `json:"strict_waivers,omitempty"`
	// Leftovers are the messages the run sent and could not delete (sent
	// to a mailbox it cannot read, or with no read-back mailbox given).
	Leftovers []Leftover `json:"leftovers,omitempty"`
}

// WaiverRecord is one waiver of the run and what it did.
type WaiverRecord struct {
	// Source is where the waiver is written: "waivers.txt:12".
	Source string `json:"source"`
	// Check is the glob of check IDs it covers; Target, when set, the glob
	// of targets.
	Check  string `json:"check"`
	Target string `json:"target,omitempty"`
	Reason string `json:"reason"`
	// Expires is its last day (YYYY-MM-DD, UTC), if it has one; Expired
	// says that day has passed and the waiver no longer applies.
	Expires string `json:"expires,omitempty"`
	Expired bool   `json:"expired,omitempty"`
	// Waived counts the results it turned into waived.
	Waived int `json:"waived"`
	// Stale: it matched no fail, warn or error of this run (what it
	// waived is fixed, or its checks did not run): it can go.
	Stale bool `json:"stale,omitempty"`
}

// Failed reports whether the run fails at the given level. A waived
// result does not fail it; a stale waiver does under StrictWaivers.
func (r *Report) Failed(level FailOn) bool { return r.FailureReason(level) != "" }

// FailureReason says why the run fails at the given level, or "" when it
// does not.
func (r *Report) FailureReason(level FailOn) string {
	var reasons []string
	for _, c := range r.Checks {
		if c.Status == Fail || c.Status == Error || level == FailOnShould && c.Status == Warn {
			reasons = append(reasons, fmt.Sprintf("conformance failures at the %s level", level))
			break
		}
	}
	if n := len(r.StaleWaivers()); r.StrictWaivers && n > 0 {
		noun := "waivers"
		if n == 1 {
			noun = "waiver"
		}
		reasons = append(reasons, fmt.Sprintf("%d stale %s (--strict-waivers)", n, noun))
	}
	return strings.Join(reasons, "; ")
}

// StaleWaivers returns the waivers that matched no fail, warn or error.
func (r *Report) StaleWaivers() []WaiverRecord {
	var stale []WaiverRecord
	for _, w := range r.Waivers {
		if w.Stale {
			stale = append(stale, w)
		}
	}
	return stale
}

// MergeReports combines the reports of several runs (say, one per target,
// run from different jobs) into one: targets and checks in the order
// given, the summary recounted, the earliest start, and the durations
// added up. The tool is the first report's.
func MergeReports(reports []*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, errors.New("conformance: no reports to merge")
	}
	out := &Report{Kind: ReportKind, Version: ReportVersion, Tool: reports[0].Tool, Started: reports[0].Started, Summary: map[Status]int{}}
	for _, r := range reports {
		if r.Kind != ReportKind {
			return nil, fmt.Errorf("conformance: cannot merge a %q report", r.Kind)
		}
		if r.Started.Before(out.Started) {
			out.Started = r.Started
		}
		out.DurationMS += r.DurationMS
		out.Targets = append(out.Targets, r.Targets...)
		out.Checks = append(out.Checks, r.Checks...)
		out.Waivers = append(out.Waivers, r.Waivers...)
		out.StrictWaivers = out.StrictWaivers || r.StrictWaivers
		out.Leftovers = append(out.Leftovers, r.Leftovers...)
	}
	for _, c := range out.Checks {
		out.Summary[c.Status]++
	}
	return out, nil
}
