package engine

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/leakcheck"
	"github.com/mailcheck/mailcheck/internal/smtptest"
)

// readAll is a check that reads lines until an error and returns it.
func readAll(ctx context.Context, t *T) error {
	c, err := t.Dial(ctx)
	if err != nil {
		return err
	}
	for range 100_000_000 { // bounded; the server or MaxReceive ends it long before
		if _, err := c.ReadLine(); err != nil {
			return err
		}
	}
	return errors.New("read 100,000,000 lines")
}

func rawTarget(t *testing.T, srv *smtptest.RawServer) Target {
	t.Helper()
	tg, err := ParseTarget("pop3://"+srv.Addr(), "")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestReceiveLimit: a server that streams lines without end makes a check
// stop at Options.MaxReceive with ErrReceiveLimit, well before the
// server's 200 MB, and the transcript keeps its first lines and a note of
// how many it left out.
func TestReceiveLimit(t *testing.T) {
	leakcheck.Check(t)
	srv := smtptest.StartRaw(t, smtptest.RawConfig{Misbehave: smtptest.HangupFlood, Status: "+OK flood follows",
		FloodOctets: 200 << 20, Timeout: 5 * time.Second})
	opts := Options{Timeout: time.Minute, MaxReceive: 1 << 20}.WithDefaults()
	var got error
	check := &Check{ID: "t.read-all", Level: Must, Run: func(ctx context.Context, t *T) error {
		got = readAll(ctx, t)
		return got
	}}
	res := RunChecks(context.Background(), rawTarget(t, srv), []*Check{check}, &opts)[0]
	if !errors.Is(got, ErrReceiveLimit) || res.Status != Error || !strings.Contains(res.Message, "more than 1048576 octets") {
		t.Fatalf("error %v, verdict %s %q; want ErrReceiveLimit after 1 MiB", got, res.Status, res.Message)
	}
	if n := len(res.Transcript); n > maxTranscriptLines+2 {
		t.Errorf("%d transcript lines, more than %d", n, maxTranscriptLines+2)
	}
	last := res.Transcript[len(res.Transcript)-1]
	if last.Dir != DirNote || !strings.HasPrefix(last.Text, "transcript truncated: ") {
		t.Errorf("the transcript does not end with a truncation note: %+v", last)
	}
	octets := 0
	for _, l := range res.Transcript {
		octets += len(l.Text)
	}
	if octets > maxTranscriptOctets+200 {
		t.Errorf("transcript of %d octets, more than %d", octets, maxTranscriptOctets)
	}
	t.Logf("stopped: %v; %d transcript lines, %d octets; last: %s", got, len(res.Transcript), octets, last.Text)
}

// TestCancelEndsReads: a run cancelled by its caller (Ctrl-C) ends at
// once, though its checks wait on a server that never answers with a read
// timeout of an hour: the runner closes their connections.
func TestCancelEndsReads(t *testing.T) {
	leakcheck.Check(t)
	srv := smtptest.StartRaw(t, smtptest.RawConfig{Misbehave: smtptest.HangupSilent, Timeout: 5 * time.Minute})
	opts := Options{Timeout: time.Hour, ReadTimeout: time.Hour, Parallel: 2}.WithDefaults()
	reading := make(chan struct{}, 4)
	checks := make([]*Check, 4)
	for i := range checks {
		checks[i] = &Check{ID: "t.wait", Level: Must, Run: func(ctx context.Context, t *T) error {
			c, err := t.Dial(ctx)
			if err != nil {
				return err
			}
			reading <- struct{}{}
			_, err = c.ReadLine()
			return err
		}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []Result, 1)
	go func() { done <- RunChecks(ctx, rawTarget(t, srv), checks, &opts) }()
	<-reading
	<-reading
	cancel()
	// A guard only: without the fix the checks wait an hour.
	select {
	case results := <-done:
		for _, r := range results {
			if r.Status != Error {
				t.Errorf("%s: %s %q, want error", r.ID, r.Status, r.Message)
			}
		}
		t.Logf("first verdict: %s", results[0].Message)
	case <-time.After(30 * time.Second):
		t.Fatal("RunChecks did not return after its context was cancelled")
	}
}

// TestServerClosedIsNamed: a server that closes mid-line or between
// lines is named as such, io.EOF kept in the chain.
func TestServerClosedIsNamed(t *testing.T) {
	leakcheck.Check(t)
	for _, tc := range []struct {
		name string
		cfg  smtptest.RawConfig
		want string
	}{
		{"mid-line", smtptest.RawConfig{Misbehave: smtptest.HangupMidReply, Line: "+OK "}, "the server closed the connection in the middle of a line"},
		// It greets, then closes (a close before any byte is a busy
		// server: TestDroppedGreetingIsBusy).
		{"between lines", smtptest.RawConfig{Misbehave: smtptest.HangupFlood, Status: "+OK hi", FloodOctets: int64(len("+OK hi\r\n"))}, "the server closed the connection: EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.StartRaw(t, tc.cfg)
			opts := Options{Timeout: time.Minute}.WithDefaults()
			var got error
			check := &Check{ID: "t.read-all", Level: Must, Run: func(ctx context.Context, t *T) error {
				got = readAll(ctx, t)
				return got
			}}
			RunChecks(context.Background(), rawTarget(t, srv), []*Check{check}, &opts)
			if !errors.Is(got, ErrServerClosed) || !errors.Is(got, io.EOF) || !strings.Contains(got.Error(), tc.want) {
				t.Errorf("error %v, want %q wrapping io.EOF", got, tc.want)
			}
		})
	}
}

// TestOptionsBounds: MaxReceive is the policy's Total, and no literal or
// message may be larger than what a check reads at all.
func TestOptionsBounds(t *testing.T) {
	p := (&Options{MaxReceive: 1000}).Bounds()
	if p.Total != 1000 || p.Literal != 1000 || p.Line != readBufferSize {
		t.Errorf("MaxReceive 1000: %+v", p)
	}
	if p := (&Options{}).Bounds(); p.Total != DefaultMaxReceive || p.Literal != DefaultMaxReceive {
		t.Errorf("defaults: %+v", p)
	}
}
