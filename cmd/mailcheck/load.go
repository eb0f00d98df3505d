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

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/spf13/cobra"

	"github.com/mailcheck/mailcheck/load"
	"github.com/mailcheck/mailcheck/load/progress"
	"github.com/mailcheck/mailcheck/reference"
	"github.com/mailcheck/mailcheck/reports"
	"github.com/mailcheck/mailcheck/target"
)

// loadFlags are load.Options (the flags set them directly) and what is
// not an option of the generator.
type loadFlags struct {
	opts                       load.Options
	caFile, procs              string
	jsonFile, hdrLog, htmlFile string
	thresholds                 []string
	tlsSkipVerify, quiet       bool
}

// defaultLoadDuration is the length of a run given neither --messages nor
// --duration.
const defaultLoadDuration = 10 * time.Second

func newLoadCommand() *cobra.Command {
	var f loadFlags
	cmd := &cobra.Command{
		Use:     "load [smtp://host:port | smtps://host:port]",
		Short:   "Drive SMTP load and measure throughput and latency; exit 1 on a breached --threshold",
		Long:    helpText("load"),
		Example: helpText("load.example"),
		Args:    cobra.MaximumNArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return runLoad(cmd, args, f) },
	}
	fl := cmd.Flags()
	o := &f.opts
	fl.IntVar(&o.Sessions, "sessions", 1, "concurrent persistent SMTP sessions")
	fl.Float64Var(&o.Rate, "rate", 0, "open loop: messages per second across all sessions (0: closed loop)")
	fl.Int64Var(&o.Messages, "messages", 0, "stop after this many messages (default: run for --duration)")
	fl.DurationVar(&o.Duration, "duration", 0, "stop after this long (default 10s when --messages is not given either)")
	fl.IntVar(&o.MessagesPerSession, "messages-per-session", 0, "reconnect after this many messages per connection (0: keep each connection)")
	fl.DurationVar(&o.Ramp, "ramp", 0, "raise the load over this long: sessions start gradually (closed loop) or the rate climbs from 0 (open loop)")
	fl.StringVar((*string)(&o.Pipelining), "pipelining", "auto", "send MAIL, RCPT and DATA in one write (RFC 2920): auto (when advertised), on or off")
	o.Size = load.SizeSpec{Min: 1 << 10, Max: 1 << 10}
	fl.Var(&flagValue{text: "1k", typ: "size", set: func(s string) (err error) {
		o.Size, err = load.ParseSize(s)
		return err
	}}, "size", "message size in octets: 1024, 1k, 10k, 1m (k = 1024), or a uniform range such as 1k-10k")
	fl.IntVar(&o.Rcpts, "rcpts", 1, "recipients per message")
	fl.StringVar(&o.From, "from", "", "reverse-path (default load@mailcheck.invalid)")
	fl.StringVar(&o.To, "to", "", "recipient; {a-b} spreads over a..b, e.g. 'user{1-100}@example.org' (required with TARGET; default bob@example.org for the embedded server)")
	fl.StringVar(&o.StartTLS, "starttls", "auto", "STARTTLS: auto (when offered), on (required) or off")
	fl.StringVar(&o.User, "user", "", "user for AUTH PLAIN (or in the target URL)")
	fl.StringVar(&o.Password, "password", "", "password for AUTH PLAIN (or in the target URL)")
	fl.BoolVar(&f.tlsSkipVerify, "tls-skip-verify", false, "do not verify the server's TLS certificate")
	fl.StringVar(&f.caFile, "ca", "", "PEM file of CA certificates to verify the server with")
	fl.Int64Var(&o.MaxErrors, "max-errors", 0, "stop after this many failed messages or connections (0: no limit)")
	fl.DurationVar(&o.Timeout, "timeout", 30*time.Second, "limit of each wait for the server")
	fl.Var(&flagValue{typ: "i/n", set: func(s string) (err error) {
		o.Segment, o.Segments, err = load.ParseSegment(s, os.Getenv)
		return err
	}}, "segment", "this generator's share of a distributed run: i/n (1-based), or k8s/n to take i from $"+load.SegmentIndexEnv+" (0-based, as a Kubernetes Indexed Job sets it)")
	fl.StringVar(&f.jsonFile, "json", "", "write the result model as JSON to this file")
	fl.StringVar(&f.htmlFile, "html", "", "write a self-contained HTML report (charts of throughput and latency) to this file")
	fl.StringVar(&f.hdrLog, "hdr-log", "", "write the HdrHistogram interval log of the transaction latency (µs, one interval per second) to this file")
	fl.StringArrayVar(&f.thresholds, "threshold", nil, "pass condition, repeatable: "+load.ThresholdSyntax)
	fl.StringVar(&f.procs, "procs", "auto", "CPUs the generator runs on (GOMAXPROCS): a number, or auto: half of them when TARGET is on this machine (loopback, the server needs the rest), all otherwise or when $GOMAXPROCS is set")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress display")
	return cmd
}

// loadOptions checks the flags and completes the options (without the
// target).
func loadOptions(cmd *cobra.Command, f loadFlags) (load.Options, []load.Threshold, error) {
	o := f.opts
	bad := func(format string, a ...any) (load.Options, []load.Threshold, error) {
		return o, nil, usageError{fmt.Errorf(format, a...)}
	}
	switch {
	case o.Sessions < 1:
		return bad("--sessions %d: want at least 1", o.Sessions)
	case o.Rate < 0:
		return bad("--rate %g: want 0 (closed loop) or more", o.Rate)
	case o.Messages < 0 || o.Duration < 0 || o.MessagesPerSession < 0 || o.Ramp < 0 || o.MaxErrors < 0 || o.Timeout < 0:
		return bad("--messages, --duration, --messages-per-session, --ramp, --max-errors and --timeout cannot be negative")
	case o.Rcpts < 1:
		return bad("--rcpts %d: want at least 1", o.Rcpts)
	case o.Pipelining != "auto" && o.Pipelining != "on" && o.Pipelining != "off":
		return bad("--pipelining %q: want auto, on or off", o.Pipelining)
	case o.StartTLS != "auto" && o.StartTLS != "on" && o.StartTLS != "off":
		return bad("--starttls %q: want auto, on or off", o.StartTLS)
	}
	if _, err := load.GeneratorProcs(f.procs, "", true, false, 1); err != nil {
		return bad("--procs %v", err)
	}
	if o.Messages == 0 && !cmd.Flags().Changed("duration") {
		o.Duration = defaultLoadDuration
	}
	ths, err := load.ParseThresholds(f.thresholds)
	if err != nil {
		return bad("--threshold: %v", err)
	}
	o.TLS, err = clientTLS(f.tlsSkipVerify, f.caFile)
	return o, ths, err
}

// loadTarget sets the target of the run: TARGET, or the embedded
// reference server, which it returns to be stopped after the run.
func loadTarget(args []string, opts *load.Options) (*reference.Server, error) {
	if len(args) == 0 {
		return startEmbeddedForLoad(opts)
	}
	t, err := target.ParseTarget(args[0], "")
	switch {
	case err != nil:
		return nil, usageError{err}
	case t.Protocol != "smtp":
		return nil, usageError{fmt.Errorf("target %s is %s: load drives SMTP (smtp://host:port or smtps://host:port)", args[0], t.Protocol)}
	case opts.To == "":
		return nil, usageError{errors.New("--to: which recipient? e.g. --to 'user{1-100}@example.org'")}
	}
	if opts.User == "" {
		opts.User, opts.Password = t.User, t.Password
	}
	opts.Target = t
	return nil, nil
}

// startEmbeddedForLoad starts the reference server sized for the run and
// points opts at it.
func startEmbeddedForLoad(opts *load.Options) (*reference.Server, error) {
	srv, trust, err := reference.StartForLoad(reference.LoadSizing{
		Sessions: opts.Sessions, Recipients: opts.Rcpts, MessageBytes: opts.Size.Max,
		User: opts.User, Password: opts.Password, InsecureAuth: opts.StartTLS == "off",
	})
	var account *reference.AccountError
	if errors.As(err, &account) {
		return nil, usageError{fmt.Errorf("--user %q: %w", account.User, account.Err)}
	} else if err != nil {
		return nil, exitError{exitCannotRun, fmt.Errorf("embedded reference server: %w", err)}
	}
	opts.Target, _ = target.ParseTarget("smtp://"+srv.SMTPAddr(), "")
	if opts.To == "" {
		opts.To = "bob@" + reference.LoopbackDomain
	}
	if opts.TLS == nil {
		opts.TLS = trust
	}
	return srv, nil
}

func runLoad(cmd *cobra.Command, args []string, f loadFlags) error {
	out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	opts, thresholds, err := loadOptions(cmd, f)
	if err != nil {
		return err
	}
	load.Tool = versionString()
	srv, err := loadTarget(args, &opts)
	if err != nil {
		return err
	}
	if srv != nil {
		defer os.RemoveAll(srv.DataDir())
		defer srv.Close()
		if !f.quiet {
			fmt.Fprintf(errw, "load: the embedded reference server on %s (a temporary data directory)\n", srv.SMTPAddr())
		}
	}
	restore, err := load.SetGeneratorProcs(f.procs, opts.Target.Addr, srv != nil)
	if err != nil {
		return usageError{fmt.Errorf("--procs %v", err)}
	}
	defer restore()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills
	}()
	if err := load.Probe(ctx, opts); err != nil {
		return exitError{exitCannotRun, err}
	}
	files, err := createEarly(f.jsonFile, f.hdrLog, f.htmlFile)
	if err != nil {
		return usageError{err}
	}
	var hdrLog *load.HdrLog
	var onInterval func(*hdrhistogram.Histogram)
	if files[1] != nil {
		hdrLog = load.NewRunHdrLog(files[1], opts)
		onInterval = hdrLog.Interval
	}
	var ui *progress.Display
	var onProgress func(load.Progress)
	if !f.quiet {
		ui = progress.New(errw, opts)
		onProgress = ui.Update
	}
	res, err := load.Run(ctx, opts, onProgress, onInterval)
	ui.Stop(res)
	if err != nil {
		abandon(files)
		return usageError{err}
	}
	interrupted := ctx.Err() != nil
	stop()
	if interrupted {
		fmt.Fprintln(errw, "load: interrupted; the results so far:")
	}

	if err := reports.WriteLoadText(out, res); err != nil {
		return err
	}
	if err := finish(files,
		func(w io.Writer) error { return reports.WriteLoadJSON(w, res) },
		func(io.Writer) error { return hdrLog.Close(res) },
		func(w io.Writer) error {
			return reports.WriteHTML(w, []reports.Run{{Load: res}}, reports.HTMLOptions{Tool: versionString()})
		}); err != nil {
		return exitError{exitCannotRun, err}
	}
	if why, ok := res.NeverReady(); ok {
		return exitError{exitCannotRun, fmt.Errorf("no session became ready to send: %s", why)}
	}
	if breaches := load.Check(res, thresholds); len(breaches) > 0 {
		reports.WriteBreaches(out, breaches)
		return exitError{exitFailure, fmt.Errorf("%d of %d thresholds breached", len(breaches), len(thresholds))}
	}
	reports.WriteThresholdsMet(out, len(thresholds))
	return nil
}
