package engine

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/leakcheck"
	"github.com/mailcheck/mailcheck/internal/smtptest"
)

// checkT is a T as the runner makes one, for tests that call the
// connection methods directly.
func checkT(target Target) *T {
	opts := Options{}.WithDefaults()
	return &T{Target: target, Options: &opts, check: &Check{ID: "t", Level: Must}, record: newTranscript()}
}

// TestDroppedGreetingIsBusy: a server that closes the connection before
// its greeting is busy (over its connection limit), with the close still
// named and io.EOF in the chain.
func TestDroppedGreetingIsBusy(t *testing.T) {
	leakcheck.Check(t)
	srv := smtptest.StartRaw(t, smtptest.RawConfig{Misbehave: smtptest.HangupClose})
	tt := checkT(rawTarget(t, srv))
	defer tt.CloseConns()
	c, err := tt.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ReadLine()
	if !IsBusy(err) || !errors.Is(err, ErrServerClosed) || !errors.Is(err, io.EOF) {
		t.Errorf("error %v, want a busy server that closed the connection (io.EOF)", err)
	}
}

// TestRefusedConnectIsBusy: a refused connection is a busy server, not a
// broken one.
func TestRefusedConnectIsBusy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connections are refused
	tt := checkT(Target{Protocol: "smtp", Addr: addr})
	if _, err := tt.Dial(context.Background()); !IsBusy(err) {
		t.Errorf("connect to a closed port: %v, want a busy server", err)
	}
}

// TestBusyCheckRunsAgain: a check that meets a busy server runs again
// afresh until it reaches its verdict; the verdict is that run's, and
// the transcript keeps the earlier runs as notes.
func TestBusyCheckRunsAgain(t *testing.T) {
	opts := Options{Retry: Retry{Attempts: 6, First: time.Millisecond, Most: time.Millisecond, Budget: time.Minute}}.WithDefaults()
	var runs atomic.Int32
	check := &Check{ID: "t.busy-twice", Level: Must, Run: func(_ context.Context, t *T) error {
		n := runs.Add(1)
		t.Note("run %d", n)
		if n < 3 {
			t.Require(Busy("greeting %q", "421 try later"))
		}
		t.Fail("the subject is not met")
		return nil
	}}
	r := RunChecks(context.Background(), Target{Protocol: "smtp", Addr: "127.0.0.1:1"}, []*Check{check}, &opts)[0]
	if r.Status != Fail || runs.Load() != 3 {
		t.Fatalf("%s %q after %d runs, want fail after 3", r.Status, r.Message, runs.Load())
	}
	if !strings.HasPrefix(r.Message, "the subject is not met") || !strings.Contains(r.Message, "run 3 times") {
		t.Errorf("message %q: want the verdict, then that it ran 3 times", r.Message)
	}
	var text []string
	for _, l := range r.Transcript {
		text = append(text, l.Text)
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{carriedMark + "# run 1", carriedMark + "# run 2", "421 try later", "\nrun 3"} {
		if !strings.Contains(all, want) {
			t.Errorf("transcript lacks %q:\n%s", want, all)
		}
	}
}

// TestBusyServerGivesUp: a server busy through every run ends the check
// as error, naming why, after Retry.Attempts runs.
func TestBusyServerGivesUp(t *testing.T) {
	opts := Options{Retry: Retry{Attempts: 3, First: time.Millisecond, Most: time.Millisecond, Budget: time.Minute}}.WithDefaults()
	var runs atomic.Int32
	check := &Check{ID: "t.always-busy", Level: Must, Run: func(_ context.Context, t *T) error {
		runs.Add(1)
		return Busy("greeting %q", "421 try later")
	}}
	r := RunChecks(context.Background(), Target{Protocol: "smtp", Addr: "127.0.0.1:1"}, []*Check{check}, &opts)[0]
	if r.Status != Error || runs.Load() != 3 || !strings.Contains(r.Message, "stayed busy") || !strings.Contains(r.Message, "421 try later") {
		t.Errorf("%s %q after %d runs, want error naming the busy server after 3", r.Status, r.Message, runs.Load())
	}
}

// TestSlowWaitIsEvidence: a greeting that takes more than SlowPhase is
// noted in the transcript and the message; the verdict stays a pass.
func TestSlowWaitIsEvidence(t *testing.T) {
	leakcheck.Check(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		time.Sleep(SlowPhase + 200*time.Millisecond)
		c.Write([]byte("220 slow.example ESMTP\r\n"))
		c.Read(make([]byte, 1))
	}()
	opts := Options{}.WithDefaults()
	check := &Check{ID: "t.slow-greeting", Level: Must, Run: func(ctx context.Context, t *T) error {
		c, err := t.Dial(ctx)
		if err != nil {
			return err
		}
		_, err = c.ReadSMTPReply()
		return err
	}}
	r := RunChecks(context.Background(), Target{Protocol: "smtp", Addr: l.Addr().String()}, []*Check{check}, &opts)[0]
	<-done
	if r.Status != Pass || !strings.HasPrefix(r.Message, "greeting took ") {
		t.Errorf("%s %q, want a pass whose message says how long the greeting took", r.Status, r.Message)
	}
	noted := false
	for _, l := range r.Transcript {
		noted = noted || l.Dir == DirNote && strings.HasPrefix(l.Text, "slow: greeting took ")
	}
	if !noted {
		t.Errorf("no note of the slow greeting in the transcript: %+v", r.Transcript)
	}
}

// TestBusyGreeting: the greetings that say "busy, try later", and some
// that do not.
func TestBusyGreeting(t *testing.T) {
	for line, want := range map[string]bool{
		"421 mx.example busy, try later\r\n":          true,
		"554 no service for you\r\n":                  false,
		"220 mx.example ESMTP\r\n":                    false,
		"-ERR [SYS/TEMP] too many connections\r\n":    true,
		"-ERR [IN-USE] maildrop locked\r\n":           true,
		"-ERR [AUTH] bad password\r\n":                false,
		"+OK ready [SYS/TEMP]\r\n":                    false,
		"* BYE too many connections from your IP\r\n": true,
		"* OK [CAPABILITY IMAP4rev1] ready\r\n":       false,
		"* PREAUTH welcome\r\n":                       false,
	} {
		if got := BusyGreeting(line); got != want {
			t.Errorf("BusyGreeting(%q) = %v, want %v", line, got, want)
		}
	}
}
