package engine

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/loopback"
)

// TestClosedIsNotTheCheckEnding: a server that keeps the connection open
// while Closed waits past the check's deadline is not a server that
// closed it. The runner closes the check's connections at its deadline;
// that close is the client's, and must not read as the server's (a pass
// for "the server closes the connection").
func TestClosedIsNotTheCheckEnding(t *testing.T) {
	// The server greets and then only waits: it never closes on its own.
	addr := loopback.Serve(t, func(c net.Conn) {
		c.Write([]byte("+OK hello\r\n"))
		c.Read(make([]byte, 1))
	})
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
	tg, err := ParseTarget("pop3://"+addr, "")
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
