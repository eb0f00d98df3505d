package session

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/target"
)

// serve answers the first connection with what, then waits for the client
// to go (at most 5s).
func serve(t *testing.T, what []byte) target.Target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(what)
		c.Read(make([]byte, 1))
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	target, _ := target.ParseTarget("smtp://"+ln.Addr().String(), "")
	return target
}

// A server line without end is refused at MaxLineLength, not buffered
// without bound.
func TestReadLineIsBounded(t *testing.T) {
	c, err := Dial(context.Background(), Options{Target: serve(t, bytes.Repeat([]byte("x"), MaxLineLength+10)), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ReadLine(); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("got %v, want a line-length error", err)
	}
}

// A silent server is a timeout, not a hang.
func TestReadTimesOut(t *testing.T) {
	c, err := Dial(context.Background(), Options{Target: serve(t, nil), Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ReadLine(); !errors.Is(err, ErrTimeout) {
		t.Errorf("got %v, want ErrTimeout", err)
	}
}

// The context's end stops a read at once.
func TestContextEndsRead(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c, err := Dial(ctx, Options{Target: serve(t, nil), Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cancel()
	if _, err := c.ReadLine(); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestStartTLSPolicy(t *testing.T) {
	for _, tc := range []struct {
		in      string
		offered bool
		want    bool
		fail    bool
	}{
		{"auto", true, true, false}, {"auto", false, false, false}, {"", true, true, false},
		{"always", true, true, false}, {"on", false, false, true},
		{"never", true, false, false}, {"off", true, false, false},
	} {
		p, err := ParseStartTLS(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		want, err := p.Wanted(tc.offered, "STARTTLS")
		if want != tc.want || (err != nil) != tc.fail || (err != nil && StageOf(err) != TLS) {
			t.Errorf("%q offered=%v: %v %v", tc.in, tc.offered, want, err)
		}
	}
	if _, err := ParseStartTLS("sometimes"); err == nil {
		t.Error("--starttls sometimes accepted")
	}
}

func TestStages(t *testing.T) {
	err := Fail(Rcpt, errors.New("550"))
	if StageOf(err) != Rcpt || StageOf(Fail(Data, err)) != Rcpt || Fail(Mail, nil) != nil || StageOf(errors.New("x")) != "" {
		t.Errorf("stages: %v", err)
	}
}
