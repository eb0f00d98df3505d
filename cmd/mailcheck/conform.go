package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailcheck/mailcheck/conformance"
	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/verdict"
	"github.com/mailcheck/mailcheck/conformance/waiver"
	"github.com/mailcheck/mailcheck/reports"
	"github.com/mailcheck/mailcheck/target"
)

type conformFlags struct {
	protocol, from, rcpt, user, password, readback string
	seed                                           string
	only, skip                                     []string
	failOn                                         string
	parallel                                       int
	timeout, readTimeout, readbackTimeout          time.Duration
	stressSeed                                     uint64
	stressDuration                                 time.Duration
	list, verbose, tlsSkipVerify, strictWaivers    bool
	caFile, jsonFile, junitFile, htmlFile, waive   string
}

func newConformCommand() *cobra.Command {
	var f conformFlags
	cmd := &cobra.Command{
		Use:   "conform [TARGET...]",
		Short: "Check mail servers against the RFCs; exit 1 on failures",
		Long: `conform runs the conformance suites against each TARGET and prints a verdict
per check: pass, fail (a MUST not met), warn (a SHOULD or MAY not met), skip
(the check does not apply, with the reason) or error (could not decide).

TARGET is host:port (the protocol comes from the port — 25, 465, 587, 2525
SMTP; 110, 995 POP3; 143, 993 IMAP — and is confirmed by the greeting) or a
URL: smtp://host:port, smtps://host:port (implicit TLS). With no TARGET,
conform starts the embedded reference server on loopback with a temporary
data directory and runs every suite against it, read-back included.

Checks that send mail need --rcpt, an address the server accepts; checks
that follow a message end to end need --readback, a mailbox where mail to
--rcpt arrives. POP3 and IMAP checks that need messages send their own
through --seed (an SMTP server delivering to --rcpt, the target's mailbox)
and wait for them; without --seed they use the messages already there and
skip what would delete mail. The suites delete only the test messages they
sent (found by their X-Mailcheck-Nonce header), never other mail.

--waive FILE accepts known failures for a while: each line of FILE is
  <check-id-glob> [target=<glob>] [expires=YYYY-MM-DD] <reason…>
(# starts a comment). A fail, warn or error a waiver covers shows as
"waived" with its reason and the verdict it replaced, and does not fail the
run; a waiver past its expiry day (UTC) does not apply, and says so; a
waiver that matches no fail, warn or error is stale, and --strict-waivers
makes a stale waiver fail the run. Every output lists the waivers.

No output shows a password: target URLs show it as xxxxx, and transcripts
hide what PASS, LOGIN, APOP, AUTH and AUTHENTICATE carry
("PASS <redacted 10 octets>").

Waits follow the RFCs: a greeting or reply gets 5 minutes (RFC 5321
§4.5.3.2; SMTP DATA's 354 2 minutes, the end of data 10 minutes; POP3 and
IMAP, which set no client timeout, 5 minutes too, inside their servers'
autologout timers). A slow wait is noted in the check's message, never a
verdict. A server that slows down, refuses connections or answers "busy"
(SMTP 421, POP3 [SYS/TEMP] or [IN-USE], IMAP BYE, NO [UNAVAILABLE], "database
is locked") gets fewer checks at once, and the checks it turned away run
again after a backoff (6 runs, within 2 minutes) before any is an error.

Exit codes: 0 no failure at the --fail-on level; 1 failures (a fail, an
error, or with --fail-on should also a warn; with --strict-waivers also a
stale waiver); 2 could not run (usage error, a malformed --waive file, no
connection, no greeting).`,
		Example: `  # Against the embedded reference server (everything passes)
  mailcheck conform

  # A server on this machine, with mail sent to bob and read back over POP3
  mailcheck conform smtp://127.0.0.1:25 --rcpt bob@example.org \
      --readback pop3://bob:secret@127.0.0.1:110 --json result.json --junit junit.xml

  # Only the DATA checks, failing CI on SHOULD too
  mailcheck conform mx.example.net:25 --only 'smtp.data.*' --fail-on should

  # Known failures waived until their fix ships; a waiver no longer needed fails CI
  mailcheck conform mx.example.net:25 --waive waivers.txt --strict-waivers

  # The catalogue: IDs, levels, RFC sections
  mailcheck conform --list`,
		RunE: func(cmd *cobra.Command, args []string) error { return runConform(cmd, args, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.protocol, "protocol", "", "protocol of bare host:port targets: smtp, pop3 or imap")
	fl.StringVar(&f.from, "from", "", "reverse-path of test messages (default conform@mailcheck.invalid)")
	fl.StringVar(&f.rcpt, "rcpt", "", "an address the server accepts, for checks that send mail")
	fl.StringVar(&f.user, "user", "", "user for AUTH")
	fl.StringVar(&f.password, "password", "", "password for AUTH (or in the target URL)")
	fl.StringVar(&f.readback, "readback", "", "mailbox where mail to --rcpt arrives: pop3://user:pass@host:port or imap://…")
	fl.DurationVar(&f.readbackTimeout, "readback-timeout", engine.DefaultReadbackTimeout, "how long to wait for a sent message to arrive in the read-back mailbox")
	fl.StringVar(&f.seed, "seed", "", "SMTP server that delivers to the POP3/IMAP target's mailbox (smtp://host:port): checks send their own messages to --rcpt through it")
	fl.StringArrayVar(&f.only, "only", nil, "run only checks whose ID matches this glob (repeatable)")
	fl.StringArrayVar(&f.skip, "skip", nil, "skip checks whose ID matches this glob (repeatable)")
	fl.StringVar(&f.failOn, "fail-on", "must", "exit 1 on: must (fail, error) or should (also warn)")
	fl.IntVar(&f.parallel, "parallel", 8, "most checks run at once (fewer while the server is slow or busy)")
	fl.DurationVar(&f.timeout, "timeout", engine.DefaultCheckTimeout, "time limit of each check (fits the RFC read timeouts)")
	fl.Uint64Var(&f.stressSeed, "stress-seed", 0, "seed of the IMAP concurrency checks (imap.concurrency.*), to replay a run; 0 picks one, which their results print")
	fl.DurationVar(&f.stressDuration, "stress-duration", engine.DefaultStressDuration, "how long each IMAP concurrency check drives its sessions")
	fl.DurationVar(&f.readTimeout, "read-timeout", 0, "each wait for the server, in place of the RFC per-phase defaults (5m greeting and replies; SMTP: 2m for DATA's 354, 10m for the end of data)")
	fl.BoolVar(&f.list, "list", false, "print the catalogue (IDs, levels, RFC sections) and exit")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "list passing and skipped checks too")
	fl.BoolVar(&f.tlsSkipVerify, "tls-skip-verify", false, "do not verify the server's TLS certificate")
	fl.StringVar(&f.caFile, "ca", "", "PEM file of CA certificates to verify the server with")
	fl.StringVar(&f.jsonFile, "json", "", "write the result model as JSON to this file")
	fl.StringVar(&f.junitFile, "junit", "", "write JUnit XML to this file")
	fl.StringVar(&f.htmlFile, "html", "", "write a self-contained HTML report to this file")
	fl.StringVar(&f.waive, "waive", "", "waiver file: lines of <check-id-glob> [target=<glob>] [expires=YYYY-MM-DD] <reason>; covered failures become waived")
	fl.BoolVar(&f.strictWaivers, "strict-waivers", false, "exit 1 when a waiver matches no fail, warn or error (stale)")
	return cmd
}

func runConform(cmd *cobra.Command, args []string, f conformFlags) error {
	out := cmd.OutOrStdout()
	if f.list {
		return reports.WriteCatalogue(out, catalogueEntries())
	}
	failOn := conformance.FailOn(f.failOn)
	if failOn != conformance.FailOnMust && failOn != conformance.FailOnShould {
		return usageError{fmt.Errorf("--fail-on %q: want must or should", f.failOn)}
	}
	if f.strictWaivers && f.waive == "" {
		return usageError{errors.New("--strict-waivers needs --waive FILE")}
	}
	var waivers []waiver.Waiver
	if f.waive != "" {
		var err error
		if waivers, err = waiver.Load(f.waive); err != nil {
			return usageError{fmt.Errorf("--waive: %w", err)}
		}
	}
	opts := conformance.Options{
		From: f.from, Rcpt: f.rcpt, User: f.user, Password: f.password,
		Only: f.only, Skip: f.skip, Parallel: f.parallel, Timeout: f.timeout, ReadTimeout: f.readTimeout,
		StressSeed: f.stressSeed, StressDuration: f.stressDuration,
		ReadbackTimeout: f.readbackTimeout,
	}
	if f.readback != "" {
		rb, err := target.ParseTarget(f.readback, "")
		if err != nil || rb.Protocol == "smtp" || rb.User == "" {
			return usageError{fmt.Errorf("--readback %q: want pop3://user:pass@host:port or imap://user:pass@host:port", target.RedactURL(f.readback))}
		}
		opts.Readback = &rb
	}
	if f.seed != "" {
		sd, err := target.ParseTarget(f.seed, "")
		if err != nil || sd.Protocol != "smtp" {
			return usageError{fmt.Errorf("--seed %q: want smtp://host:port", target.RedactURL(f.seed))}
		}
		opts.Seed = &sd
	}
	tlsConfig, err := clientTLS(f.tlsSkipVerify, f.caFile)
	if err != nil {
		return usageError{err}
	}
	opts.TLS = tlsConfig
	conformance.Version = versionString()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var report *conformance.Report
	if len(args) == 0 {
		report, err = conformance.RunEmbedded(ctx, opts, nil)
	} else {
		report, err = conformance.Run(ctx, args, f.protocol, opts)
	}
	if err != nil {
		if errors.Is(err, conformance.ErrCannotRun) {
			return exitError{exitCannotRun, err}
		}
		return err
	}
	if f.waive != "" {
		waiver.Apply(report, waivers, time.Now(), f.strictWaivers)
	}
	if err := reports.WriteText(out, report, reports.TextOptions{Color: isTerminal(out), Verbose: f.verbose}); err != nil {
		return err
	}
	writeLeftovers(out, report.Leftovers)
	for _, w := range []struct {
		path  string
		write func(io.Writer) error
	}{
		{f.jsonFile, func(w io.Writer) error { return reports.WriteJSON(w, report) }},
		{f.junitFile, func(w io.Writer) error { return reports.WriteJUnit(w, report) }},
		{f.htmlFile, func(w io.Writer) error {
			return reports.WriteHTML(w, []reports.Run{{Conformance: report}}, reports.HTMLOptions{Tool: versionString()})
		}},
	} {
		if w.path == "" {
			continue
		}
		if err := writeFileWith(w.path, w.write); err != nil {
			return exitError{exitCannotRun, err}
		}
	}
	if report.Failed(failOn) {
		return exitError{exitFailure, errors.New(report.FailureReason(failOn))}
	}
	return nil
}

// writeLeftovers lists the messages the run sent and could not delete, so
// that whoever runs it can remove them (they carry X-Mailcheck-Nonce).
func writeLeftovers(w io.Writer, left []conformance.Leftover) {
	if len(left) == 0 {
		return
	}
	fmt.Fprintf(w, "Left behind: %d test message(s) the run could not delete (each found by its X-Mailcheck-Nonce header):\n", len(left))
	for _, l := range left {
		fmt.Fprintf(w, "  X-Mailcheck-Nonce: %s  to %s, from %s via %s: %s\n", l.Nonce, strings.Join(l.To, ", "), l.Check, l.Via, l.Reason)
	}
}

func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// isTerminal reports whether w is a terminal (for colour).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// catalogueEntries describes every check of every suite.
func catalogueEntries() []verdict.CatalogueEntry {
	var entries []verdict.CatalogueEntry
	for _, c := range conformance.Catalogue() {
		entries = append(entries, c.CatalogueEntry())
	}
	return entries
}
