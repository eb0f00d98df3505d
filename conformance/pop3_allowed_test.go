package conformance

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/faultpop3"
	"github.com/mailcheck/mailcheck/internal/loopback"
)

// Allowed behaviour is never a fail or an error (issue 13, class 6).

// TestPOP3CloseAfterFailedPASSIsAllowed: RFC 1939 §4, "After returning a
// negative status indicator, the server may close the connection."
func TestPOP3CloseAfterFailedPASSIsAllowed(t *testing.T) {
	results := runPOP3(t, faultpop3.CloseAfterFailedLogin.Configure, Options{})
	for _, bad := range badVerdicts(results, nil) {
		t.Errorf("a server closing after a failed PASS: %s", bad)
	}
	if r := results["pop3.auth.failure-stays"]; r.Status != Pass || !strings.Contains(r.Message, "closed") {
		t.Errorf("pop3.auth.failure-stays: %s (%s), want a pass that says the server closed", r.Status, r.Message)
	}
}

// TestPOP3LoginDelayIsTemporary: a server that answers the right password
// "-ERR [LOGIN-DELAY]" (RFC 2449 §8.1.1) for now: the checks that need a
// login skip, saying why; nothing fails or errors.
func TestPOP3LoginDelayIsTemporary(t *testing.T) {
	addr := startLoginDelayServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	report, err := Run(ctx, []string{"pop3://bob:secret@" + addr}, "pop3", Options{Only: []string{"pop3.*"}})
	if err != nil {
		t.Fatal(err)
	}
	results := byID(report)
	for _, bad := range badVerdicts(results, nil) {
		t.Errorf("a server in its login delay: %s", bad)
	}
	for _, id := range []string{"pop3.noop.ok", "pop3.stat.syntax", "pop3.lock.exclusive"} {
		if r := results[id]; r.Status != Skip || !strings.Contains(r.Message, "precondition") || !strings.Contains(r.Message, "LOGIN-DELAY") {
			t.Errorf("%s: %s (%s), want a precondition skip naming LOGIN-DELAY", id, r.Status, r.Message)
		}
	}
	for _, id := range []string{"pop3.auth.wrong-password", "pop3.auth.failure-stays", "pop3.capa.syntax", "pop3.resp-codes.syntax"} {
		if r := results[id]; r.Status != Pass {
			t.Errorf("%s: %s (%s), want pass", id, r.Status, r.Message)
		}
	}
}

// startLoginDelayServer serves POP3's AUTHORIZATION state and never lets
// a login in now: the right password (bob/secret) gets -ERR
// [LOGIN-DELAY], a wrong one -ERR [AUTH].
func startLoginDelayServer(t *testing.T) string {
	return loopback.Serve(t, serveLoginDelay)
}

func serveLoginDelay(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	fmt.Fprint(c, "+OK fake POP3 ready\r\n")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		switch strings.ToUpper(verb) {
		case "CAPA":
			fmt.Fprint(c, "+OK\r\nUSER\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nLOGIN-DELAY 900\r\n.\r\n")
		case "USER":
			fmt.Fprint(c, "+OK\r\n")
		case "PASS":
			if arg == "secret" {
				fmt.Fprint(c, "-ERR [LOGIN-DELAY] wait 900 seconds between logins\r\n")
			} else {
				fmt.Fprint(c, "-ERR [AUTH] Authentication failed\r\n")
			}
		case "QUIT":
			fmt.Fprint(c, "+OK bye\r\n")
			return
		default:
			fmt.Fprint(c, "-ERR not in this state\r\n")
		}
	}
}

// TestPOP3LingeringLockWithoutCodeIsWaitedOut: a server without
// RESP-CODES refuses a login "-ERR Maildrop already locked" while the
// session of the check before is still being torn down; the lock lifts
// at once, and the check gets its verdict instead of a skip.
func TestPOP3LingeringLockWithoutCodeIsWaitedOut(t *testing.T) {
	var refusals atomic.Int32
	refusals.Store(2)
	addr := loopback.Serve(t, func(c net.Conn) {
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		r := bufio.NewReader(c)
		fmt.Fprint(c, "+OK fake POP3 ready\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			verb, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
			switch strings.ToUpper(verb) {
			case "USER", "NOOP":
				fmt.Fprint(c, "+OK\r\n")
			case "PASS":
				if refusals.Add(-1) >= 0 {
					fmt.Fprint(c, "-ERR Maildrop already locked\r\n")
				} else {
					fmt.Fprint(c, "+OK logged in\r\n")
				}
			case "QUIT":
				fmt.Fprint(c, "+OK bye\r\n")
				return
			default:
				fmt.Fprint(c, "-ERR unknown\r\n")
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	report, err := Run(ctx, []string{"pop3://bob:secret@" + addr}, "pop3", Options{Only: []string{"pop3.noop.ok"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := byID(report)["pop3.noop.ok"]; r.Status != Pass {
		t.Errorf("pop3.noop.ok: %s (%s), want pass once the lock lifts", r.Status, r.Message)
	}
}
