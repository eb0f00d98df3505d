package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailcheck/mailcheck/conformance"
	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/waiver"
	"github.com/mailcheck/mailcheck/reports"
)

// conformFlags are conformance.Options (the flags set them directly) and
// what is not an option of the run.
type conformFlags struct {
	opts                                         conformance.Options
	protocol, readback, seed, failOn             string
	list, verbose, tlsSkipVerify, strictWaivers  bool
	caFile, jsonFile, junitFile, htmlFile, waive string
}

func newConformCommand() *cobra.Command {
	var f conformFlags
	cmd := &cobra.Command{
		Use:     "conform [TARGET...]",
		Short:   "Check mail servers against the RFCs; exit 1 on failures",
		Long:    helpText("conform"),
		Example: helpText("conform.example"),
		RunE:    func(cmd *cobra.Command, args []string) error { return runConform(cmd, args, f) },
	}
	fl, o := cmd.Flags(), &f.opts
	fl.StringVar(&f.protocol, "protocol", "", "protocol of bare host:port targets: smtp, pop3 or imap")
	fl.StringVar(&o.From, "from", "", "reverse-path of test messages (default conform@mailcheck.invalid)")
	fl.StringVar(&o.Rcpt, "rcpt", "", "an address the server accepts, for checks that send mail")
	fl.StringVar(&o.User, "user", "", "user for AUTH")
	fl.StringVar(&o.Password, "password", "", "password for AUTH (or in the target URL)")
	fl.StringVar(&f.readback, "readback", "", "mailbox where mail to --rcpt arrives: pop3://user:pass@host:port or imap://…")
	fl.DurationVar(&o.ReadbackTimeout, "readback-timeout", engine.DefaultReadbackTimeout, "how long to wait for a sent message to arrive in the read-back mailbox")
	fl.StringVar(&f.seed, "seed", "", "SMTP server that delivers to the POP3/IMAP target's mailbox (smtp://host:port): checks send their own messages to --rcpt through it")
	fl.StringArrayVar(&o.Only, "only", nil, "run only checks whose ID matches this glob (repeatable)")
	fl.StringArrayVar(&o.Skip, "skip", nil, "skip checks whose ID matches this glob (repeatable)")
	fl.StringVar(&f.failOn, "fail-on", "must", "exit 1 on: must (fail, error) or should (also warn)")
	fl.IntVar(&o.Parallel, "parallel", 8, "most checks run at once (fewer while the server is slow or busy)")
	fl.DurationVar(&o.Timeout, "timeout", engine.DefaultCheckTimeout, "time limit of each check (fits the RFC read timeouts)")
	fl.DurationVar(&o.ReadTimeout, "read-timeout", 0, "each wait for the server, in place of the RFC per-phase defaults (5m greeting and replies; SMTP: 2m for DATA's 354, 10m for the end of data)")
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
		return reports.WriteCatalogue(out, conformance.CatalogueEntries())
	}
	failOn := conformance.FailOn(f.failOn)
	if failOn != conformance.FailOnMust && failOn != conformance.FailOnShould {
		return usageError{fmt.Errorf("--fail-on %q: want must or should", f.failOn)}
	}
	waivers, err := loadWaivers(f)
	if err != nil {
		return err
	}
	opts, err := conformOptions(f)
	if err != nil {
		return err
	}
	conformance.Version = versionString()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var report *conformance.Report
	if len(args) == 0 {
		report, err = conformance.RunEmbedded(ctx, opts, nil)
	} else {
		report, err = conformance.Run(ctx, args, f.protocol, opts)
	}
	if errors.Is(err, conformance.ErrCannotRun) {
		return exitError{exitCannotRun, err}
	} else if err != nil {
		return err
	}
	if f.waive != "" {
		waiver.Apply(report, waivers, time.Now(), f.strictWaivers)
	}
	if err := reports.WriteText(out, report, reports.TextOptions{Color: isTerminal(out), Verbose: f.verbose}); err != nil {
		return err
	}
	reports.WriteLeftovers(out, report.Leftovers)
	if err := writeOutputs([]output{
		{f.jsonFile, func(w io.Writer) error { return reports.WriteJSON(w, report) }},
		{f.junitFile, func(w io.Writer) error { return reports.WriteJUnit(w, report) }},
		{f.htmlFile, func(w io.Writer) error {
			return reports.WriteHTML(w, []reports.Run{{Conformance: report}}, reports.HTMLOptions{Tool: versionString()})
		}},
	}); err != nil {
		return err
	}
	if report.Failed(failOn) {
		return exitError{exitFailure, errors.New(report.FailureReason(failOn))}
	}
	return nil
}

// loadWaivers reads the --waive file.
func loadWaivers(f conformFlags) ([]waiver.Waiver, error) {
	if f.strictWaivers && f.waive == "" {
		return nil, usageError{errors.New("--strict-waivers needs --waive FILE")}
	}
	if f.waive == "" {
		return nil, nil
	}
	waivers, err := waiver.Load(f.waive)
	if err != nil {
		return nil, usageError{fmt.Errorf("--waive: %w", err)}
	}
	return waivers, nil
}

// conformOptions completes conformance.Options from the flags.
func conformOptions(f conformFlags) (conformance.Options, error) {
	opts := f.opts
	var err error
	if f.readback != "" {
		if opts.Readback, err = conformance.ParseReadback(f.readback); err != nil {
			return opts, usageError{fmt.Errorf("--readback %v", err)}
		}
	}
	if f.seed != "" {
		if opts.Seed, err = conformance.ParseSeed(f.seed); err != nil {
			return opts, usageError{fmt.Errorf("--seed %v", err)}
		}
	}
	opts.TLS, err = clientTLS(f.tlsSkipVerify, f.caFile)
	return opts, err
}
