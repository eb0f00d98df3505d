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
// `mailcheck conform --json` writes and `mailcheck report` reads; it is
// defined in package conformance/verdict, which imports neither the suites
// nor the reference server, and aliased here. RunEmbedded's server is
// reference.StartLoopback.
package conformance

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mailcheck/mailcheck/conformance/e2esuite"
	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/imapsuite"
	"github.com/mailcheck/mailcheck/conformance/pop3suite"
	"github.com/mailcheck/mailcheck/conformance/smtpsuite"
	"github.com/mailcheck/mailcheck/conformance/verdict"
)

// Options configure a run; see engine.Options for the fields.
type Options = engine.Options

// The result model lives in the leaf package conformance/verdict (so that
// what reads reports does not import the suites or the server); these
// names keep this package's callers compiling.
type (
	Status       = verdict.Status
	Level        = verdict.Level
	Result       = verdict.Result
	Report       = verdict.Report
	WaiverNote   = verdict.WaiverNote
	WaiverRecord = verdict.WaiverRecord
	Leftover     = verdict.Leftover
	FailOn       = verdict.FailOn
	Target       = verdict.Target
	Check        = engine.Check
)

// Verdicts and levels, re-exported for callers of this package.
const (
	Pass  = verdict.Pass
	Fail  = verdict.Fail
	Warn  = verdict.Warn
	Skip  = verdict.Skip
	Error = verdict.Error
	// Waived is a fail, warn or error a waiver accepts (package
	// conformance/waiver).
	Waived = verdict.Waived

	Must   = verdict.Must
	Should = verdict.Should
	May    = verdict.May

	FailOnMust   = verdict.FailOnMust
	FailOnShould = verdict.FailOnShould

	ReportKind    = verdict.ReportKind
	ReportVersion = verdict.ReportVersion
)

// MergeReports is verdict.MergeReports.
func MergeReports(reports []*Report) (*Report, error) { return verdict.MergeReports(reports) }

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
			return nil, fmt.Errorf("%w: %s: %v", ErrCannotRun, target.Redacted(), err)
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
// greeting. A server that resets the connection, closes it before its
// greeting or greets "busy" is tried again (Options.Retry) before it is
// given up.
func confirm(ctx context.Context, t *Target, opts *Options) error {
	policy := opts.Retry
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		err := confirmOnce(ctx, t, opts)
		if !engine.IsBusy(err) {
			return err
		}
		wait := policy.Wait(attempt)
		if !policy.Another(attempt, waited, wait) {
			return fmt.Errorf("%w (%d tries)", err, attempt)
		}
		select {
		case <-time.After(wait):
			waited += wait
		case <-ctx.Done():
			return err
		}
	}
}

func confirmOnce(ctx context.Context, t *Target, opts *Options) error {
	timeout := opts.PhaseTimeout(engine.PhaseGreeting)
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		// A refused first connection is most likely no server at all (a
		// wrong port): it is not tried again. Once the target has
		// answered, the checks take a refusal for a busy server.
		if errors.Is(err, syscall.ECONNRESET) {
			return engine.Busy("connect: %w", err)
		}
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
		tc.SetDeadline(time.Now().Add(timeout))
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}
	conn.SetReadDeadline(time.Now().Add(timeout))
	// A bounded read: a server that sends a line without end must not fill
	// memory until the timeout.
	raw, err := bufio.NewReaderSize(conn, 4096).ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("no greeting: the first line is longer than %d octets", len(raw))
	}
	if len(raw) == 0 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		return engine.Busy("no greeting: the server closed the connection at once: %w", err)
	}
	if err != nil {
		return fmt.Errorf("no greeting: %w", err)
	}
	if engine.BusyGreeting(string(raw)) {
		return engine.Busy("greeting %q", strings.TrimSpace(string(raw)))
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
