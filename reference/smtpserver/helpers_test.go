package smtpserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// memBackend is a Backend that keeps mail in memory: local domain
// example.org with users alice and bob; alice's password is "secret".
type memBackend struct {
	mu        sync.Mutex
	delivered []delivered
	fail      error // returned by Deliver when set
	block     chan struct{}
}

type delivered struct {
	env  Envelope
	data string
}

func (b *memBackend) Authenticate(_ context.Context, user, pass string) (string, error) {
	if user == "alice" && pass == "secret" {
		return "alice", nil
	}
	return "", ErrAuthFailed
}

func (b *memBackend) Recipient(_ context.Context, conn *ConnInfo, rcpt smtpaddr.Mailbox) error {
	switch {
	case rcpt.Domain == "":
		return nil
	case strings.EqualFold(rcpt.Domain, "example.org"):
		if l := strings.ToLower(rcpt.Local); l == "alice" || l == "bob" || l == "postmaster" {
			return nil
		}
		return smtpreply.NewReply(550, "5.1.1", "No such user here")
	case conn.User == "":
		return smtpreply.NewReply(554, "5.7.1", "Relay access denied")
	}
	return nil
}

func (b *memBackend) Deliver(_ context.Context, env *Envelope, msg [][]byte) error {
	if b.block != nil {
		<-b.block
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	var sb strings.Builder
	for _, c := range msg {
		sb.Write(c)
	}
	b.delivered = append(b.delivered, delivered{*env, sb.String()})
	return nil
}

func (b *memBackend) messages() []delivered {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]delivered(nil), b.delivered...)
}

// startServer runs a Server on a loopback port; it is shut down when the
// test ends.
func startServer(t testing.TB, opts Options) (*Server, *memBackend, string) {
	t.Helper()
	if opts.AuthFailureDelay == 0 {
		opts.AuthFailureDelay = -1
	}
	if opts.Hostname == "" {
		opts.Hostname = "mx.example.org"
	}
	be := &memBackend{}
	srv := New(be, opts)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return srv, be, l.Addr().String()
}

// client is a line-level test client with a deadline on every read.
type client struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// greeted dials and reads the 220.
func greeted(t testing.TB, addr string) *client {
	t.Helper()
	c := dial(t, addr)
	c.expect(220)
	return c
}

// ehlod is greeted plus a successful EHLO.
func ehlod(t testing.TB, addr string) *client {
	t.Helper()
	c := greeted(t, addr)
	c.cmd("EHLO client.example", 250)
	return c
}

// authenticated is ehlod plus AUTH PLAIN as alice (the server must allow
// AUTH without TLS).
func authenticated(t testing.TB, addr string) *client {
	t.Helper()
	c := ehlod(t, addr)
	c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==", 235)
	return c
}

func (c *client) raw(s string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) read() *smtpreply.Reply {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	r, err := smtpreply.ReadReply(c.r, true, nil)
	if err != nil {
		c.t.Fatalf("read reply: %v", err)
	}
	return r
}

func (c *client) expect(code int) *smtpreply.Reply {
	c.t.Helper()
	r := c.read()
	if r.Code != code {
		c.t.Fatalf("got %q, want %d", r.String(), code)
	}
	return r
}

func (c *client) cmd(line string, code int) *smtpreply.Reply {
	c.t.Helper()
	c.raw(line + "\r\n")
	return c.expect(code)
}

// send runs one whole transaction and returns the final reply.
func (c *client) send(from, to, data string) *smtpreply.Reply {
	c.t.Helper()
	c.cmd("MAIL FROM:<"+from+">", 250)
	c.cmd("RCPT TO:<"+to+">", 250)
	c.cmd("DATA", 354)
	c.raw(data)
	return c.read()
}

// closed reports whether the server closed the connection.
func (c *client) closed() bool {
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.r.ReadByte()
	return err != nil
}

func (c *client) startTLS() {
	c.t.Helper()
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.conn = tc
	c.r = bufio.NewReader(tc)
}
