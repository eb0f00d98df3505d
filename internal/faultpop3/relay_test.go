package faultpop3

import (
	"bufio"
	"crypto/tls"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/reference"
)

// start starts the loopback reference server set up with f and returns
// its POP3 address and a client TLS configuration that trusts it.
func start(t *testing.T, f *Fault) (string, *tls.Config) {
	t.Helper()
	srv, trust, err := reference.StartLoopback(f.Configure)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		os.RemoveAll(srv.DataDir())
	})
	return srv.Addr("pop3"), trust
}

// conversation is a client's side of a session, reading with a deadline.
type conversation struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string) *conversation {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &conversation{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (c *conversation) send(lines ...string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(strings.Join(lines, "\r\n") + "\r\n")); err != nil {
		c.t.Fatal(err)
	}
}

func (c *conversation) line() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return strings.TrimRight(l, "\r\n")
}

// startTLS does the TLS handshake (after STLS) and returns the
// conversation inside TLS.
func (c *conversation) startTLS(trust *tls.Config) *conversation {
	c.t.Helper()
	tc := tls.Client(c.conn, trust)
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake after STLS: %v", err)
	}
	return &conversation{t: c.t, conn: tc, r: bufio.NewReader(tc)}
}

// multi reads a multi-line body up to its "." line.
func (c *conversation) multi() []string {
	c.t.Helper()
	var body []string
	for l := c.line(); l != "."; l = c.line() {
		body = append(body, l)
	}
	return body
}

// TestProxyKeepsPipelineAndRelaysTLS: through the proxy with no fault, a
// pipelined batch is answered in order, and after STLS the session goes
// on inside TLS, relayed as bytes.
func TestProxyKeepsPipelineAndRelaysTLS(t *testing.T) {
	addr, trust := start(t, None)
	c := dial(t, addr)
	if g := c.line(); !strings.HasPrefix(g, "+OK") {
		t.Fatalf("greeting %q", g)
	}
	c.send("USER "+reference.LoopbackUser, "PASS "+reference.LoopbackPassword, "STAT", "NOOP", "RSET")
	for _, want := range []string{"+OK send PASS", "+OK maildrop has 0 messages", "+OK 0 0", "+OK", "+OK maildrop has"} {
		if got := c.line(); !strings.HasPrefix(got, want) {
			t.Errorf("pipelined: %q, want %q…", got, want)
		}
	}
	c.send("QUIT")
	c.line()

	c = dial(t, addr)
	c.line()
	c.send("STLS")
	if got := c.line(); !strings.HasPrefix(got, "+OK") {
		t.Fatalf("STLS: %q", got)
	}
	c = c.startTLS(trust)
	c.send("CAPA")
	if got := c.line(); !strings.HasPrefix(got, "+OK") {
		t.Fatalf("CAPA in TLS: %q", got)
	}
	for _, l := range c.multi() {
		if l == "STLS" {
			t.Error("CAPA lists STLS after the handshake: the proxy, not the server, did TLS")
		}
	}
}

// TestProxyAnswersSTLSItself: STLSStillOffered does the handshake in the
// server's place, so the server, still in plain text, offers STLS.
func TestProxyAnswersSTLSItself(t *testing.T) {
	addr, trust := start(t, STLSStillOffered)
	c := dial(t, addr)
	c.line()
	c.send("STLS")
	c.line()
	c = c.startTLS(trust)
	c.send("CAPA")
	c.line()
	if body := c.multi(); !strings.Contains(strings.Join(body, " "), "STLS") {
		t.Errorf("CAPA after the proxy's handshake: %q, want STLS still listed", body)
	}
}

// TestRenumbering: after DELE 2 of 4, a server that renumbers calls
// message 3 "2", and takes "2" to mean message 3.
func TestRenumbering(t *testing.T) {
	s := &session{messages: 4}
	s.mark(2)
	if got := s.number(3); got != 2 {
		t.Errorf("number(3) = %d, want 2", got)
	}
	if got := s.renumbered(2); got != 3 {
		t.Errorf("renumbered(2) = %d, want 3", got)
	}
	if got := s.renumberLine("4 1234"); got != "3 1234" {
		t.Errorf("renumberLine = %q, want \"3 1234\"", got)
	}
}
