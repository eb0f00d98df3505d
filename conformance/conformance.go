// Package conformance checks mail servers against the RFCs and gives a
// verdict CI can gate on. Run runs the suites against targets; RunEmbedded
// runs them against the embedded reference server. Another project's tests
// can call either:
//
//	report, err := conformance.Run(ctx, []string{"smtp://127.0.0.1:2525"}, conformance.Options{Rcpt: "bob@example.org"})
//	if err != nil { t.Fatal(err) }
//	if report.Failed(conformance.FailOnMust) { … }
//
// The report (type Report) is the documented, stable result model that
// `mailcheck conform --json` writes and `mailcheck report` reads.
package conformance

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/conformance/e2esuite"
	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/imapsuite"
	"github.com/mailcheck/mailcheck/conformance/pop3suite"
	"github.com/mailcheck/mailcheck/conformance/smtpsuite"
)

// Options configure a run; see engine.Options for the fields.
type Options = engine.Options

// Status, Level and Result are the result model's parts.
type (
	Status = engine.Status
	Level  = engine.Level
	Result = engine.Result
	Check  = engine.Check
	Target = engine.Target
)

// Verdicts and levels, re-exported for callers of this package.
const (
	Pass  = engine.Pass
	Fail  = engine.Fail
	Warn  = engine.Warn
	Skip  = engine.Skip
	Error = engine.Error

	Must   = engine.Must
	Should = engine.Should
	May    = engine.May
)

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
// field changes meaning or goes away.
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
	// Leftovers are the messages the run sent and could not delete (sent
	// to a mailbox it cannot read, or with no read-back mailbox given).
	Leftovers []Leftover `json:"leftovers,omitempty"`
}

// Failed reports whether the run fails at the given level.
func (r *Report) Failed(level FailOn) bool {
	for _, c := range r.Checks {
		if c.Status == Fail || c.Status == Error || level == FailOnShould && c.Status == Warn {
			return true
		}
	}
	return false
}

// Catalogue lists every check of every suite.
func Catalogue() []*Check {
	var all []*Check
	all = append(all, smtpsuite.Checks()...)
	all = append(all, pop3suite.Checks()...)
	all = append(all, imapsuite.Checks()...)
	return append(all, e2esuite.All()...)
}

// suite returns the checks for a protocol.
func suite(protocol string) ([]*Check, error) {
	switch protocol {
	case "smtp":
		return smtpsuite.Checks(), nil
	case "pop3":
		return pop3suite.Checks(), nil
	case "imap":
		return imapsuite.Checks(), nil
	}
	return nil, fmt.Errorf("no conformance suite for %s yet", protocol)
}

// ErrCannotRun wraps the errors that mean no verdict was possible: a bad
// target, no connection, no greeting.
var ErrCannotRun = errors.New("cannot run")

// Run checks every target with its protocol's suite. An error means it could
// not run at all (a bad target, no connection, no greeting); verdicts,
// failures included, are in the report.
func Run(ctx context.Context, rawTargets []string, protocol string, opts Options) (*Report, error) {
	opts = opts.WithDefaults()
	var targets []Target
	for _, raw := range rawTargets {
		t, err := engine.ParseTarget(raw, protocol)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCannotRun, err)
		}
		// An smtp:// URL's login is for SMTP AUTH; POP3 and IMAP targets
		// keep theirs.
		if t.Protocol == "smtp" && t.User != "" && opts.User == "" {
			opts.User, opts.Password = t.User, t.Password
		}
		targets = append(targets, t)
	}
	return RunTargets(ctx, targets, opts)
}

// RunTargets is Run with parsed targets.
func RunTargets(ctx context.Context, targets []Target, opts Options) (*Report, error) {
	opts = opts.WithDefaults()
	if opts.State == nil {
		opts.State = engine.NewRunState()
	}
	report := &Report{Kind: ReportKind, Version: ReportVersion, Tool: Version, Started: time.Now().UTC(), Targets: targets, Summary: map[Status]int{}}
	// With an SMTP target beside POP3/IMAP ones, mail for the end-to-end
	// checks goes in through it (unless --seed says otherwise).
	if opts.Seed == nil {
		for i := range targets {
			if targets[i].Protocol == "smtp" {
				seedTarget := targets[i]
				opts.Seed = &seedTarget
				break
			}
		}
	}
	for i, target := range targets {
		if err := confirm(ctx, &targets[i], &opts); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCannotRun, target.Raw, err)
		}
		target = targets[i]
		checks, err := suite(target.Protocol)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCannotRun, err)
		}
		// Clip: the suites' slices are shared catalogues; appending in
		// place would write into them (a data race between runs).
		checks = append(slices.Clip(checks), e2esuite.Checks(target.Protocol)...)
		var selected []*Check
		for _, c := range checks {
			if opts.Selected(c.ID) {
				selected = append(selected, c)
			}
		}
		topts := opts
		if target.Protocol == "pop3" {
			// A POP3 maildrop admits one session at a time (RFC 1939 §8):
			// its checks run one after another.
			topts.Parallel = 1
		}
		report.Checks = append(report.Checks, engine.RunChecks(ctx, target, selected, &topts)...)
	}
	for _, c := range report.Checks {
		report.Summary[c.Status]++
	}
	report.Leftovers = sweep(ctx, targets, &opts)
	report.DurationMS = float64(time.Since(report.Started).Microseconds()) / 1000
	return report, nil
}

// confirm connects once: a target that cannot be reached or does not greet
// cannot be checked, and a protocol guessed from the port must match the
// greeting.
func confirm(ctx context.Context, t *Target, opts *Options) error {
	d := net.Dialer{Timeout: opts.ReadTimeout}
	conn, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if t.ImplicitTLS {
		cfg := &tls.Config{ServerName: t.Host()}
		if opts.TLS != nil {
			cfg = opts.TLS.Clone()
			if cfg.ServerName == "" {
				cfg.ServerName = t.Host()
			}
		}
		tc := tls.Client(conn, cfg)
		tc.SetDeadline(time.Now().Add(opts.ReadTimeout))
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}
	conn.SetReadDeadline(time.Now().Add(opts.ReadTimeout))
	// A bounded read: a server that sends a line without end must not fill
	// memory until the timeout.
	raw, err := bufio.NewReaderSize(conn, 4096).ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("no greeting: the first line is longer than %d octets", len(raw))
	}
	if err != nil {
		return fmt.Errorf("no greeting: %w", err)
	}
	line := string(raw)
	got := engine.ProtocolOfGreeting(line)
	switch {
	case got == "" && t.FromPort:
		return fmt.Errorf("unrecognized greeting %q: cannot tell the protocol (use a URL or --protocol)", strings.TrimSpace(line))
	case got == "":
		// The scheme says the protocol; the checks judge the greeting.
	case got != t.Protocol && t.FromPort:
		t.Protocol = got // the greeting is the better witness than the port
	case got != t.Protocol:
		return fmt.Errorf("greeting %q is %s, not %s", strings.TrimSpace(line), got, t.Protocol)
	}
	return nil
}

// Version is the tool version recorded in reports; cmd/mailcheck sets it.
var Version = "(devel)"

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
		out.Leftovers = append(out.Leftovers, r.Leftovers...)
	}
	for _, c := range out.Checks {
		out.Summary[c.Status]++
	}
	return out, nil
}
