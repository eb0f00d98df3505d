package pop3client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/mailcheck/mailcheck/bounds"
	"github.com/mailcheck/mailcheck/internal/loopback"
	"github.com/mailcheck/mailcheck/reference"
)

// fake serves one scripted POP3 session: the greeting, then for each
// command the reply script gives (CRLFs as written).
func fake(t *testing.T, reply func(cmd string, c net.Conn) bool) string {
	return loopback.Serve(t, func(c net.Conn) {
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("+OK fake\r\n"))
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil || !reply(strings.TrimRight(line, "\r\n"), c) {
				return
			}
		}
	})
}

func dial(t *testing.T, addr string, p bounds.Policy) *Client {
	t.Helper()
	c, err := Dial(context.Background(), addr, Config{Timeout: 5 * time.Second}, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if st, err := c.Greeting(); err != nil || !st.OK {
		t.Fatalf("greeting: %+v %v", st, err)
	}
	return c
}

func TestParseStatus(t *testing.T) {
	st, err := ParseStatus("-ERR [SYS/TEMP] later")
	if err != nil || st.OK || !st.Code.Is("SYS") || st.Code.Is("SYS/PERM") || st.Text != "later" {
		t.Errorf("%+v %v", st, err)
	}
	if _, err := ParseStatus("+ok fine"); !errors.Is(err, ErrMalformed) {
		t.Errorf("lower-case status: %v", err)
	}
}

// TestMultiLine: the stuffing is undone; an endless response stops at the
// bound with an error, not in the client's memory.
func TestMultiLine(t *testing.T) {
	addr := fake(t, func(cmd string, c net.Conn) bool {
		switch cmd {
		case "RETR 1":
			c.Write([]byte("+OK\r\n..\r\n...x\r\n.y\r\nz\n.\r\n"))
		case "RETR 2":
			c.Write([]byte("+OK endless\r\n"))
			for {
				if _, err := c.Write(bytes.Repeat([]byte("flood line\r\n"), 1000)); err != nil {
					return false
				}
			}
		}
		return true
	})
	c := dial(t, addr, bounds.Policy{Literal: 1 << 20})
	msg, err := c.Retr(1)
	if err != nil || string(msg) != ".\r\n..x\r\ny\r\nz\n" {
		t.Errorf("RETR 1: %q %v", msg, err)
	}
	_, err = c.Retr(2)
	var e *bounds.ExceededError
	if !errors.As(err, &e) || e.Limit != 1<<20 {
		t.Errorf("an endless RETR: %v", err)
	}
}

// TestAuth: AUTH PLAIN with its initial response, and a mechanism that
// answers a challenge (RFC 5034 §4).
func TestAuth(t *testing.T) {
	addr := fake(t, func(cmd string, c net.Conn) bool {
		switch {
		case cmd == "AUTH PLAIN AGJvYgBwdw==":
			c.Write([]byte("+OK in\r\n"))
		case cmd == "AUTH LOGIN Ym9i":
			c.Write([]byte("+ UGFzc3dvcmQ6\r\n"))
		case cmd == "cHc=":
			c.Write([]byte("-ERR [AUTH] no\r\n"))
		default:
			c.Write([]byte("-ERR what\r\n"))
		}
		return true
	})
	c := dial(t, addr, bounds.Policy{})
	if err := c.Auth(sasl.NewPlainClient("", "bob", "pw")); err != nil {
		t.Errorf("AUTH PLAIN: %v", err)
	}
	var refused *RefusedError
	if err := c.Auth(sasl.NewLoginClient("bob", "pw")); !errors.As(err, &refused) || !refused.Status.Code.Is("AUTH") {
		t.Errorf("AUTH LOGIN: %v", err)
	}
}

// TestReferenceServer runs a whole session against the reference server:
// CAPA, STLS, USER/PASS, STAT, LIST, UIDL, TOP, RETR, DELE, RSET, NOOP,
// QUIT.
func TestReferenceServer(t *testing.T) {
	srv, trust, err := reference.StartLoopback(func(c *reference.Config) { c.Users.Add("alice", "alice-Pw-1") })
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(srv.DataDir())
	defer srv.Close()
	var wire bytes.Buffer
	var phases []string
	c, err := Dial(context.Background(), srv.Addr("pop3"), Config{TLS: trust, Timeout: 5 * time.Second,
		Record: func(fromServer bool, b []byte) { wire.Write(b) }}, bounds.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.OnReply = func(phase string, _ time.Duration) { phases = append(phases, phase) }
	if _, err := c.Greeting(); err != nil {
		t.Fatal(err)
	}
	caps, err := c.Capa()
	if err != nil || !caps.Has("stls") || !caps.Has("UIDL") {
		t.Fatalf("CAPA: %v %v", caps, err)
	}
	if err := c.STLS(); err != nil || c.Caps() != nil || !c.Wire().(TLSWire).TLS() {
		t.Fatalf("STLS: %v", err)
	}
	if err := c.Login("alice", "wrong"); !Refused(err) {
		t.Errorf("a wrong password: %v", err)
	}
	c.Close()
	c, err = Dial(context.Background(), srv.Addr("pop3"), Config{TLS: trust, Timeout: 5 * time.Second}, bounds.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Greeting()
	if err := c.STLS(); err != nil {
		t.Fatal(err)
	}
	if err := c.Login("alice", "alice-Pw-1"); err != nil {
		t.Fatal(err)
	}
	n, size, err := c.Stat()
	if err != nil || n != 0 || size != 0 {
		t.Errorf("STAT of an empty maildrop: %d %d %v", n, size, err)
	}
	if l, err := c.List(); err != nil || len(l) != 0 {
		t.Errorf("LIST: %v %v", l, err)
	}
	if l, err := c.UIDL(); err != nil || len(l) != 0 {
		t.Errorf("UIDL: %v %v", l, err)
	}
	if _, err := c.Retr(1); !Refused(err) {
		t.Errorf("RETR of no message: %v", err)
	}
	if err := c.Noop(); err != nil {
		t.Error(err)
	}
	if err := c.Rset(); err != nil {
		t.Error(err)
	}
	if err := c.Quit(); err != nil {
		t.Error(err)
	}
	if !strings.Contains(wire.String(), "STLS\r\n") || strings.Join(phases[:3], " ") != "greeting CAPA STLS" {
		t.Errorf("hooks saw %q, phases %v", wire.String(), phases)
	}
}
