package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/spf13/cobra"

	"github.com/mailcheck/mailcheck/load"
	"github.com/mailcheck/mailcheck/reference"
	"github.com/mailcheck/mailcheck/reference/smtpserver"
	"github.com/mailcheck/mailcheck/reports"
	"github.com/mailcheck/mailcheck/target"
)

type loadFlags struct {
	sessions, perSession, rcpts          int
	rate                                 float64
	messages, maxErrors                  int64
	duration, ramp, timeout              time.Duration
	pipelining, size, from, to, starttls string
	user, password, caFile, segment      string
	procs                                string
	jsonFile, hdrLog, htmlFile           string
	thresholds                           []string
	tlsSkipVerify, quiet                 bool
}

// defaultLoadDuration is the length of a run given neither --messages nor
// --duration.
const defaultLoadDuration = 10 * time.Second

// segmentIndexEnv is the variable `--segment k8s/N` takes the index from:
// a Kubernetes Indexed Job sets it (0-based) in each pod.
const segmentIndexEnv = "JOB_COMPLETION_INDEX"

func newLoadCommand() *cobra.Command {
	var f loadFlags
	cmd := &cobra.Command{
		Use:   "load [smtp://host:port | smtps://host:port]",
		Short: "Drive SMTP load and measure throughput and latency; exit 1 on a breached --threshold",
		Long: `load drives concurrent persistent SMTP sessions against TARGET and measures
throughput and latency: each phase (connect, greeting, EHLO, STARTTLS, AUTH,
MAIL, RCPT, DATA, end of data) and the whole transaction (MAIL to the final
250) go into HdrHistograms, reported as percentiles up to p99.99.

TARGET is smtp://host:port (STARTTLS per --starttls) or smtps://host:port
(implicit TLS); a user and password in the URL are used for AUTH PLAIN. With
no TARGET, load starts the embedded reference server on loopback with a
temporary data directory (messages are fsync'd before 250, as always) and
loads it, sending to bob@example.org.

Closed loop (default): each session sends its next message as soon as the
previous one is accepted. Open loop (--rate R): messages are due at R per
second across all sessions, and latency is measured from when each message
was due, so a stalling server cannot hide behind coordinated omission; the
uncorrected figures (from when it was sent) are reported beside them.

The run ends after --messages, after --duration, after --max-errors
failures, or at Ctrl-C. Given neither --messages nor --duration it runs for
10s; --duration 0 runs until Ctrl-C. At Ctrl-C the run stops, and what was measured is printed and written
like any other result.

Progress goes to stderr: bars on a terminal, else one line every 5 seconds
(none with --quiet). The summary goes to stdout: settings, counts, msgs/s
and MB/s, latency percentiles per phase, errors by class with the first
example.

On a loopback target the generator runs on half the CPUs (--procs auto):
the server under test needs the others, and a generator spinning on all of
them would lower the numbers it measures. --procs N sets the number.

Several generators (--segment i/n) each take their share of --rate and
--messages; ` + "`mailcheck report seg-*.json`" + ` merges their results exactly.

Thresholds (--threshold, repeatable) make the run pass or fail:
  [PHASE.]METRIC OP VALUE     OP: <, <=, >, >=
  METRIC  pN (p50, p99, p99.9, any percentile), min, mean, max  latency of
          PHASE (default transaction; or connect, greeting, ehlo, starttls,
          auth, mail, rcpt, data, end_of_data, transaction_uncorrected),
          VALUE a duration (50ms, 1s; a bare number is ms)
          rate        accepted messages per second
          errors      failed messages
          error_rate  failed / sent (0.01 or 1%)
          late        open loop: messages that could not start on time
A latency of a phase that measured nothing breaches its threshold.

Exit codes: 0 the run completed and met every --threshold; 1 a threshold was
breached (listed on stdout); 2 could not run: a usage error, the target
refused the first connection, or no session ever became ready to send (every
failure was in connect, greeting, EHLO, STARTTLS or AUTH and nothing was
accepted). Failed messages alone do not exit 1: use --threshold errors<1.`,
		Example: `  # 10 seconds against the embedded reference server
  mailcheck load

  # Closed loop: 50 sessions, 100,000 messages of 1-10 KiB, spread over 1000 mailboxes
  mailcheck load smtp://127.0.0.1:2525 --sessions 50 --messages 100000 \
      --size 1k-10k --to 'user{1-1000}@example.org' --json result.json

  # Open loop at 2000 msgs/s for a minute, failing CI on slow or failed mail
  mailcheck load smtp://mx.test:25 --rate 2000 --duration 60s --sessions 200 --to bob@example.org \
      --threshold 'p99<50ms' --threshold 'error_rate<0.001' --hdr-log tx.hlog

  # Segment 2 of 4 generators; merge later with mailcheck report
  mailcheck load smtp://mx.test:25 --rate 20000 --duration 60s --to bob@example.org \
      --segment 2/4 --json seg-2.json

  # A pod of a Kubernetes Indexed Job of 3: segment $JOB_COMPLETION_INDEX+1 of 3
  mailcheck load smtp://mx.test:25 --rate 20000 --duration 60s --to bob@example.org \
      --segment k8s/3 --json /out/seg-$JOB_COMPLETION_INDEX.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runLoad(cmd, args, f) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.sessions, "sessions", 1, "concurrent persistent SMTP sessions")
	fl.Float64Var(&f.rate, "rate", 0, "open loop: messages per second across all sessions (0: closed loop)")
	fl.Int64Var(&f.messages, "messages", 0, "stop after this many messages (default: run for --duration)")
	fl.DurationVar(&f.duration, "duration", 0, "stop after this long (default 10s when --messages is not given either)")
	fl.IntVar(&f.perSession, "messages-per-session", 0, "reconnect after this many messages per connection (0: keep each connection)")
	fl.DurationVar(&f.ramp, "ramp", 0, "raise the load over this long: sessions start gradually (closed loop) or the rate climbs from 0 (open loop)")
	fl.StringVar(&f.pipelining, "pipelining", "auto", "send MAIL, RCPT and DATA in one write (RFC 2920): auto (when advertised), on or off")
	fl.StringVar(&f.size, "size", "1k", "message size in octets: 1024, 1k, 10k, 1m (k = 1024), or a uniform range such as 1k-10k")
	fl.IntVar(&f.rcpts, "rcpts", 1, "recipients per message")
	fl.StringVar(&f.from, "from", "", "reverse-path (default load@mailcheck.invalid)")
	fl.StringVar(&f.to, "to", "", "recipient; {a-b} spreads over a..b, e.g. 'user{1-100}@example.org' (required with TARGET; default bob@example.org for the embedded server)")
	fl.StringVar(&f.starttls, "starttls", "auto", "STARTTLS: auto (when offered), on (required) or off")
	fl.StringVar(&f.user, "user", "", "user for AUTH PLAIN (or in the target URL)")
	fl.StringVar(&f.password, "password", "", "password for AUTH PLAIN (or in the target URL)")
	fl.BoolVar(&f.tlsSkipVerify, "tls-skip-verify", false, "do not verify the server's TLS certificate")
	fl.StringVar(&f.caFile, "ca", "", "PEM file of CA certificates to verify the server with")
	fl.Int64Var(&f.maxErrors, "max-errors", 0, "stop after this many failed messages or connections (0: no limit)")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "limit of each wait for the server")
	fl.StringVar(&f.segment, "segment", "", "this generator's share of a distributed run: i/n (1-based), or k8s/n to take i from $"+segmentIndexEnv+" (0-based, as a Kubernetes Indexed Job sets it)")
	fl.StringVar(&f.jsonFile, "json", "", "write the result model as JSON to this file")
	fl.StringVar(&f.htmlFile, "html", "", "write a self-contained HTML report (charts of throughput and latency) to this file")
	fl.StringVar(&f.hdrLog, "hdr-log", "", "write the HdrHistogram interval log of the transaction latency (µs, one interval per second) to this file")
	fl.StringArrayVar(&f.thresholds, "threshold", nil, "pass condition, repeatable: "+load.ThresholdSyntax)
	fl.StringVar(&f.procs, "procs", "auto", "CPUs the generator runs on (GOMAXPROCS): a number, or auto: half of them when TARGET is on this machine (loopback, the server needs the rest), all otherwise or when $GOMAXPROCS is set")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress display")
	return cmd
}

// loadOptions turns the flags into load.Options (without the target).
func loadOptions(cmd *cobra.Command, f loadFlags) (load.Options, []load.Threshold, error) {
	o := load.Options{
		Sessions: f.sessions, Rate: f.rate, Messages: f.messages, Duration: f.duration,
		MessagesPerSession: f.perSession, Ramp: f.ramp, Pipelining: load.Pipelining(f.pipelining),
		Rcpts: f.rcpts, From: f.from, To: f.to, StartTLS: f.starttls,
		User: f.user, Password: f.password, MaxErrors: f.maxErrors, Timeout: f.timeout,
	}
	bad := func(format string, a ...any) (load.Options, []load.Threshold, error) {
		return o, nil, usageError{fmt.Errorf(format, a...)}
	}
	switch {
	case f.sessions < 1:
		return bad("--sessions %d: want at least 1", f.sessions)
	case f.rate < 0:
		return bad("--rate %g: want 0 (closed loop) or more", f.rate)
	case f.messages < 0 || f.duration < 0 || f.perSession < 0 || f.ramp < 0 || f.maxErrors < 0 || f.timeout < 0:
		return bad("--messages, --duration, --messages-per-session, --ramp, --max-errors and --timeout cannot be negative")
	case f.rcpts < 1:
		return bad("--rcpts %d: want at least 1", f.rcpts)
	case f.pipelining != "auto" && f.pipelining != "on" && f.pipelining != "off":
		return bad("--pipelining %q: want auto, on or off", f.pipelining)
	case f.starttls != "auto" && f.starttls != "on" && f.starttls != "off":
		return bad("--starttls %q: want auto, on or off", f.starttls)
	}
	if _, err := generatorProcs(f.procs, "", true, false, 1); err != nil {
		return o, nil, usageError{err}
	}
	if f.messages == 0 && !cmd.Flags().Changed("duration") {
		o.Duration = defaultLoadDuration
	}
	var err error
	if o.Size, err = parseSize(f.size); err != nil {
		return bad("--size: %v", err)
	}
	if f.segment != "" {
		if o.Segment, o.Segments, err = parseSegment(f.segment, os.Getenv); err != nil {
			return bad("--segment: %v", err)
		}
	}
	ths, err := load.ParseThresholds(f.thresholds)
	if err != nil {
		return bad("--threshold: %v", err)
	}
	if o.TLS, err = clientTLS(f.tlsSkipVerify, f.caFile); err != nil {
		return o, nil, usageError{err}
	}
	return o, ths, nil
}

// maxMessageSize bounds --size: twice the largest message most servers
// take (the reference server's default limit is 32 MiB).
const maxMessageSize = 64 << 20

// parseSize reads "1024", "1k", "10K", "1m" (k = 1024, m = 1024²) or a
// range "1k-10k".
func parseSize(s string) (load.SizeSpec, error) {
	one := func(s string) (int, error) {
		mult := 1
		switch {
		case strings.HasSuffix(strings.ToLower(s), "k"):
			mult, s = 1<<10, s[:len(s)-1]
		case strings.HasSuffix(strings.ToLower(s), "m"):
			mult, s = 1<<20, s[:len(s)-1]
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > maxMessageSize/mult {
			return 0, fmt.Errorf("size %q: want a number of octets up to 64m, e.g. 1024, 1k, 10k", s)
		}
		return n * mult, nil
	}
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "-")
	min, err := one(lo)
	if err != nil {
		return load.SizeSpec{}, err
	}
	max := min
	if isRange {
		if max, err = one(hi); err != nil {
			return load.SizeSpec{}, err
		}
		if max < min {
			return load.SizeSpec{}, fmt.Errorf("range %q is empty", s)
		}
	}
	return load.SizeSpec{Min: min, Max: max}, nil
}

// parseSegment reads "i/n" (1 ≤ i ≤ n) or "k8s/n", where i is one more
// than $JOB_COMPLETION_INDEX (0-based).
func parseSegment(s string, getenv func(string) string) (int, int, error) {
	is, ns, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil || n < 1 {
		return 0, 0, fmt.Errorf("%q: want i/n (segment i of n, from 1) or k8s/n", s)
	}
	if is == "k8s" {
		v := getenv(segmentIndexEnv)
		idx, err := strconv.Atoi(v)
		if v == "" || err != nil {
			return 0, 0, fmt.Errorf("%q takes the index from $%s, which is %q", s, segmentIndexEnv, v)
		}
		if idx < 0 || idx >= n {
			return 0, 0, fmt.Errorf("$%s=%d is not an index of %d segments (0 to %d)", segmentIndexEnv, idx, n, n-1)
		}
		return idx + 1, n, nil
	}
	i, err := strconv.Atoi(is)
	switch {
	case err != nil:
		return 0, 0, fmt.Errorf("%q: want i/n (segment i of n, from 1) or k8s/n", s)
	case i == 0:
		return 0, 0, fmt.Errorf("%q: segments count from 1 (k8s/%d takes a 0-based index from $%s)", s, n, segmentIndexEnv)
	case i < 0 || i > n:
		return 0, 0, fmt.Errorf("%q: segment %d of %d does not exist", s, i, n)
	}
	return i, n, nil
}

// clientTLS is the client TLS configuration of --tls-skip-verify and --ca;
// nil when neither is given.
func clientTLS(skipVerify bool, caFile string) (*tls.Config, error) {
	if !skipVerify && caFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: skipVerify}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s: no PEM certificates", caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// outFile is an output created before the run, so a bad path fails at
// once rather than after it.
type outFile struct {
	path string
	f    *os.File
}

func createOut(path string) (*outFile, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &outFile{path, f}, nil
}

// abandon closes and removes an output nothing was written to.
func (o *outFile) abandon() {
	if o != nil {
		o.f.Close()
		os.Remove(o.path)
	}
}

func runLoad(cmd *cobra.Command, args []string, f loadFlags) error {
	out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	opts, thresholds, err := loadOptions(cmd, f)
	if err != nil {
		return err
	}
	load.Tool = versionString()

	if len(args) == 1 {
		t, err := target.ParseTarget(args[0], "")
		if err != nil {
			return usageError{err}
		}
		if t.Protocol != "smtp" {
			return usageError{fmt.Errorf("target %s is %s: load drives SMTP (smtp://host:port or smtps://host:port)", args[0], t.Protocol)}
		}
		if opts.To == "" {
			return usageError{errors.New("--to: which recipient? e.g. --to 'user{1-100}@example.org'")}
		}
		if opts.User == "" {
			opts.User, opts.Password = t.User, t.Password
		}
		opts.Target = t
	} else {
		srv, trust, err := startEmbeddedForLoad(opts)
		if err != nil {
			return err
		}
		defer os.RemoveAll(srv.DataDir())
		defer srv.Close()
		opts.Target, _ = target.ParseTarget("smtp://"+srv.SMTPAddr(), "")
		if opts.To == "" {
			opts.To = "bob@" + reference.LoopbackDomain
		}
		if opts.TLS == nil {
			opts.TLS = trust
		}
		if !f.quiet {
			fmt.Fprintf(errw, "load: the embedded reference server on %s (a temporary data directory)\n", srv.SMTPAddr())
		}
	}

	_, envSet := os.LookupEnv("GOMAXPROCS")
	procs, err := generatorProcs(f.procs, opts.Target.Addr, len(args) == 0, envSet, runtime.GOMAXPROCS(0))
	if err != nil {
		return usageError{err}
	}
	if procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills
	}()

	// Fail fast when nothing listens: every session would only retry.
	d := net.Dialer{Timeout: opts.Timeout}
	if c, err := d.DialContext(ctx, "tcp", opts.Target.Addr); err != nil {
		return exitError{exitCannotRun, fmt.Errorf("cannot connect to %s: %w", opts.Target, err)}
	} else {
		c.Close()
	}

	jsonOut, err := createOut(f.jsonFile)
	if err != nil {
		return usageError{err}
	}
	hdrOut, err := createOut(f.hdrLog)
	if err != nil {
		jsonOut.abandon()
		return usageError{err}
	}
	htmlOut, err := createOut(f.htmlFile)
	if err != nil {
		jsonOut.abandon()
		hdrOut.abandon()
		return usageError{err}
	}
	var hdrLog *load.HdrLog
	var onInterval func(*hdrhistogram.Histogram)
	if hdrOut != nil {
		seg := ""
		if opts.Segments > 1 {
			seg = fmt.Sprintf(" segment %d/%d", opts.Segment, opts.Segments)
		}
		hdrLog = load.NewHdrLog(hdrOut.f, fmt.Sprintf("mailcheck load %s%s (%s)", opts.Target, seg, versionString()))
		onInterval = hdrLog.Interval
	}

	var ui *progressDisplay
	var onProgress func(load.Progress)
	if !f.quiet {
		ui = newProgress(errw, opts)
		onProgress = ui.update
	}
	res, err := load.Run(ctx, opts, onProgress, onInterval)
	ui.stop(res)
	if err != nil {
		jsonOut.abandon()
		hdrOut.abandon()
		htmlOut.abandon()
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
	var writeErr error
	if jsonOut != nil {
		writeErr = errors.Join(reports.WriteLoadJSON(jsonOut.f, res), jsonOut.f.Close())
	}
	if hdrOut != nil {
		writeErr = errors.Join(writeErr, hdrLog.Close(res), hdrOut.f.Close())
	}
	if htmlOut != nil {
		writeErr = errors.Join(writeErr, reports.WriteHTML(htmlOut.f, []reports.Run{{Load: res}}, reports.HTMLOptions{Tool: versionString()}), htmlOut.f.Close())
	}
	if writeErr != nil {
		return exitError{exitCannotRun, writeErr}
	}
	if why, ok := neverReady(res); ok {
		return exitError{exitCannotRun, fmt.Errorf("no session became ready to send: %s", why)}
	}
	if breaches := load.Check(res, thresholds); len(breaches) > 0 {
		printBreaches(out, breaches)
		return exitError{exitFailure, fmt.Errorf("%d of %d thresholds breached", len(breaches), len(thresholds))}
	}
	if len(thresholds) > 0 {
		fmt.Fprintf(out, "\nall %d thresholds met\n", len(thresholds))
	}
	return nil
}

func printBreaches(w io.Writer, breaches []load.Breach) {
	fmt.Fprintf(w, "\nthresholds breached\n")
	for _, b := range breaches {
		fmt.Fprintf(w, "  %s\n", b.Message)
	}
}

// setupPhases are the phases before a session can send.
var setupPhases = map[load.Phase]bool{
	load.PhaseConnect: true, load.PhaseGreeting: true, load.PhaseEHLO: true, load.PhaseSTARTTLS: true, load.PhaseAuth: true,
}

// neverReady reports, from the result, a run in which no session could
// send: nothing accepted and every failure in connect, greeting, EHLO,
// STARTTLS or AUTH. It returns the commonest failure.
func neverReady(res *load.Result) (string, bool) {
	if res.Accepted > 0 || len(res.Errors) == 0 {
		return "", false
	}
	for _, e := range res.Errors {
		if !setupPhases[e.Phase] {
			return "", false
		}
	}
	e := res.Errors[0]
	return fmt.Sprintf("%d × %s (first: %s)", e.Count, e.Class, strings.TrimSpace(e.Example)), true
}

// startEmbeddedForLoad starts the reference server sized for the run: room
// for every session, a short AUTH failure delay, and an account for --user.
func startEmbeddedForLoad(o load.Options) (*reference.Server, *tls.Config, error) {
	var userErr error
	srv, trust, err := reference.StartLoopback(func(c *reference.Config) {
		c.POP3Addr, c.IMAPAddr = "", ""
		c.SMTP.MaxConnections = max(smtpserver.DefaultMaxConnections, o.Sessions+10)
		c.SMTP.MaxRecipients = max(smtpserver.DefaultMaxRecipients, o.Rcpts)
		c.SMTP.MaxMessageBytes = max(smtpserver.DefaultMaxMessageBytes, int64(o.Size.Max)+64<<10)
		c.SMTP.AuthFailureDelay = time.Millisecond
		c.JournalBytes = 32 << 20
		if o.User != "" {
			userErr = c.Users.Add(o.User, o.Password)
			c.SMTP.InsecureAuth = o.StartTLS == "off"
		}
	})
	if err != nil {
		return nil, nil, exitError{exitCannotRun, fmt.Errorf("embedded reference server: %w", err)}
	}
	if userErr != nil {
		srv.Close()
		os.RemoveAll(srv.DataDir())
		return nil, nil, usageError{fmt.Errorf("--user %q: %w", o.User, userErr)}
	}
	return srv, trust, nil
}
