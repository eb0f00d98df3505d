package conformance

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/internal/loopback"
)

// TestLogoutNotClosedFailsSoon: a server that answers LOGOUT properly and
// then keeps the connection open fails imap.logout.bye after a short
// wait, not after the 5-minute reply timeout (a close owes no reply; the
// server closes right after its tagged OK or not at all).
func TestLogoutNotClosedFailsSoon(t *testing.T) {
	done := make(chan struct{})
	defer close(done)
	addr := loopback.Serve(t, func(c net.Conn) {
		defer c.Close()
		c.Write([]byte("* OK [CAPABILITY IMAP4rev1] ready\r\n"))
		r := bufio.NewReader(c)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimSpace(l), " ")
			switch strings.ToUpper(rest) {
			case "LOGOUT":
				c.Write([]byte("* BYE logging out\r\n" + tag + " OK LOGOUT completed\r\n"))
				select { // and stays open
				case <-done:
				case <-time.After(time.Minute):
				}
				return
			case "CAPABILITY":
				c.Write([]byte("* CAPABILITY IMAP4rev1\r\n" + tag + " OK done\r\n"))
			default:
				c.Write([]byte(tag + " OK done\r\n"))
			}
		}
	})
	target, err := engine.ParseTarget("imap://"+addr, "")
	if err != nil {
		t.Fatal(err)
	}
	// A check timeout far below the 5-minute reply wait: a check that
	// waited that long for the close would end in error, not fail.
	report := runIMAP(t, target, Options{Only: []string{"imap.logout.bye"}, Timeout: 30 * time.Second})
	if len(report.Checks) != 1 {
		t.Fatalf("%d results", len(report.Checks))
	}
	r := report.Checks[0]
	if r.Status != Fail {
		t.Errorf("%s %q, want fail", r.Status, r.Message)
	}
}
