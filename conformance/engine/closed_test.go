package engine

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestClosedIsNotTheCheckEnding: a server that keeps the connection open
// while Closed waits past the check's deadline is not a server that
// closed it. The runner closes the check's connections at its deadline;
// that close is the client's, and must not read as the server's (a pass
// for "the server closes the connection").
func TestClosedIsNotTheCheckEnding(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("+OK hello\r\n"))
			go func() { defer c.Close(); time.Sleep(5 * time.Second) }()
		}
	}()
	opts := (&Options{Timeout: 300 * time.Millisecond}).WithDefaults()
	check := &Check{ID: "t.closed", Level: Must, Run: func(ctx context.Context, t *T) error {
		c, err := t.Dial(ctx)
		if err != nil {
			return err
		}
		if _, err := c.ReadLine(); err != nil {
			return err
		}
		if !c.Closed(3 * time.Second) {
			t.Fail("still open")
		}
		return nil
	}}
	tg, err := ParseTarget("pop3://"+ln.Addr().String(), "")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := RunChecks(context.Background(), tg, []*Check{check}, &opts)[0]
	if res.Status == Pass {
		t.Fatalf("verdict %s %q: the check's own deadline read as the server closing", res.Status, res.Message)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v, want the check's 300ms deadline", took)
	}
}
