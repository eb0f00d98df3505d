package pop3server

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var errTest = errors.New("disk on fire")

// memBackend is a Backend that keeps maildrops in memory. Users: alice
// (password "secret"; the name is case-insensitive, canonical "alice") with
// the messages of aliceMessages, and bob (password "hunter2") with an empty
// maildrop.
type memBackend struct {
	mu        sync.Mutex
	drops     map[string][]memMessage
	deletes   [][]string // the uids of every Delete call, in order
	closes    int        // Maildrop.Close calls
	opens     int        // OpenMaildrop calls that succeeded
	deleteErr error      // returned by Delete when set
	openErr   error      // returned by OpenMaildrop when set
	authErr   error      // returned by Authenticate when set
	wrongSize bool       // Messages lists every size one octet too large
	badUID    bool       // Messages lists an invalid unique-id
}

type memMessage struct{ uid, data string }

// aliceMessages: a plain message; one with lines that need byte-stuffing;
// one with a three-line body; one with no blank line (TOP sends it whole)
// whose first line begins with a dot.
var aliceMessages = []memMessage{
	{"uid-one", "Subject: one\r\n\r\nhello\r\n"},
	{"uid-dots", "Subject: dots\r\nX-Test: y\r\n\r\n.\r\n..\r\n.x\r\nlast . line\r\n"},
	{"uid-three", "Subject: three\r\n\r\nl1\r\nl2\r\nl3\r\n"},
	{"uid-headers-only", ".Odd: header\r\nSubject: no body\r\n"},
}

func newMemBackend() *memBackend {
	return &memBackend{drops: map[string][]memMessage{
		"alice": slices.Clone(aliceMessages),
		"bob":   nil,
	}}
}

func (b *memBackend) Authenticate(_ context.Context, username, password string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.authErr != nil {
		return "", b.authErr
	}
	switch user := strings.ToLower(username); {
	case user == "alice" && password == "secret", user == "bob" && password == "hunter2":
		return user, nil
	}
	return "", ErrAuthFailed
}

func (b *memBackend) OpenMaildrop(_ context.Context, user string) (Maildrop, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openErr != nil {
		return nil, b.openErr
	}
	b.opens++
	var infos []MessageInfo
	for _, m := range b.drops[user] {
		size := int64(len(m.data))
		if b.wrongSize {
			size++
		}
		infos = append(infos, MessageInfo{UID: m.uid, Size: size})
	}
	if b.badUID && len(infos) > 0 {
		infos[0].UID = "has space"
	}
	return &memDrop{b: b, user: user, infos: infos}, nil
}

// memDrop is a snapshot listing over the live backend: Open sees messages
// removed since (as another protocol might remove them).
type memDrop struct {
	b      *memBackend
	user   string
	infos  []MessageInfo
	closed bool
}

func (d *memDrop) Messages() []MessageInfo { return d.infos }

func (d *memDrop) Open(uid string) (io.ReadCloser, error) {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	for _, m := range d.b.drops[d.user] {
		if m.uid == uid {
			return io.NopCloser(strings.NewReader(m.data)), nil
		}
	}
	return nil, errors.New("no such message")
}

func (d *memDrop) Delete(uids []string) error {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	d.b.deletes = append(d.b.deletes, slices.Clone(uids))
	if d.b.deleteErr != nil {
		return d.b.deleteErr
	}
	d.b.drops[d.user] = slices.DeleteFunc(d.b.drops[d.user], func(m memMessage) bool {
		return slices.Contains(uids, m.uid)
	})
	return nil
}

func (d *memDrop) Close() error {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	if d.closed {
		panic("maildrop closed twice")
	}
	d.closed = true
	d.b.closes++
	return nil
}

// remove deletes a message behind the server's back.
func (b *memBackend) remove(user, uid string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drops[user] = slices.DeleteFunc(b.drops[user], func(m memMessage) bool { return m.uid == uid })
}

func (b *memBackend) deleteCalls() [][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.deletes)
}

func (b *memBackend) counts() (opens, closes int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opens, b.closes
}

func (b *memBackend) set(f func(b *memBackend)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(b)
}

// startServer runs a Server on a loopback port; it is shut down when the
// test ends. A server without TLS gets InsecureAuth, so tests can log in
// over plain loopback connections.
func startServer(t testing.TB, opts Options) (*Server, *memBackend, string) {
	t.Helper()
	if opts.TLSConfig == nil {
		opts.InsecureAuth = true
	}
	return startServerAsIs(t, opts)
}

// startServerAsIs is startServer without the InsecureAuth for servers
// without TLS.
func startServerAsIs(t testing.TB, opts Options) (*Server, *memBackend, string) {
	t.Helper()
	if opts.AuthFailureDelay == 0 {
		opts.AuthFailureDelay = -1
	}
	if opts.Hostname == "" {
		opts.Hostname = "pop.example.org"
	}
	be := newMemBackend()
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

// greeted dials and reads the +OK greeting.
func greeted(t testing.TB, addr string) *client {
	t.Helper()
	c := dial(t, addr)
	c.expectOK()
	return c
}

// loggedIn is greeted plus USER and PASS: the session is in TRANSACTION.
func loggedIn(t testing.TB, addr, user, pass string) *client {
	t.Helper()
	c := greeted(t, addr)
	c.ok("USER " + user)
	c.ok("PASS " + pass)
	return c
}

// authenticated is loggedIn as alice.
func authenticated(t testing.TB, addr string) *client {
	t.Helper()
	return loggedIn(t, addr, "alice", "secret")
}

func (c *client) raw(s string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// line reads one line and returns it without its CRLF; a line not ended by
// CRLF fails the test.
func (c *client) line() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, l)
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.t.Fatalf("line %q does not end with CRLF", l)
	}
	return l[:len(l)-2]
}

// status reads a status line and checks its form: "+OK" or "-ERR", alone
// or followed by a space and text.
func (c *client) status() string {
	c.t.Helper()
	l := c.line()
	if l != "+OK" && l != "-ERR" && !strings.HasPrefix(l, "+OK ") && !strings.HasPrefix(l, "-ERR ") {
		c.t.Fatalf("malformed status line %q", l)
	}
	return l
}

func (c *client) expectOK() string {
	c.t.Helper()
	l := c.status()
	if !strings.HasPrefix(l, "+OK") {
		c.t.Fatalf("got %q, want +OK", l)
	}
	return l
}

func (c *client) expectERR() string {
	c.t.Helper()
	l := c.status()
	if !strings.HasPrefix(l, "-ERR") {
		c.t.Fatalf("got %q, want -ERR", l)
	}
	return l
}

// ok sends a single-line command and expects +OK.
func (c *client) ok(cmd string) string {
	c.t.Helper()
	c.raw(cmd + "\r\n")
	return c.expectOK()
}

// fail sends a command and expects -ERR.
func (c *client) fail(cmd string) string {
	c.t.Helper()
	c.raw(cmd + "\r\n")
	return c.expectERR()
}

// multi sends a command with a multi-line answer, expects +OK and returns
// the status line and the unstuffed lines.
func (c *client) multi(cmd string) (string, []string) {
	c.t.Helper()
	st := c.ok(cmd)
	return st, c.body()
}

// body reads the lines of a multi-line response up to the "." line and
// undoes the byte-stuffing (RFC 1939 §3).
func (c *client) body() []string {
	c.t.Helper()
	var lines []string
	for {
		l := c.line()
		if l == "." {
			return lines
		}
		if strings.HasPrefix(l, ".") {
			l = l[1:]
		}
		lines = append(lines, l)
	}
}

// content joins unstuffed lines back into message octets.
func content(lines []string) string {
	var sb strings.Builder
	for _, l := range lines {
		sb.WriteString(l + "\r\n")
	}
	return sb.String()
}

// closed reports whether the server closed the connection with nothing
// more sent.
func (c *client) closed() bool {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := c.r.ReadByte()
	if err == nil {
		rest, _ := c.r.ReadString('\n')
		c.t.Errorf("unexpected data before close: %q", string(b)+rest)
	}
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

// eventually retries f (which reports success) for up to 5 seconds: for
// state the server changes just after the client sees a connection end.
func eventually(t testing.TB, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tryLogin opens a session and logs in; it returns the client in
// TRANSACTION, or nil and the -ERR line if PASS failed.
func tryLogin(t testing.TB, addr, user, pass string) (*client, string) {
	t.Helper()
	c := greeted(t, addr)
	c.ok("USER " + user)
	c.raw("PASS " + pass + "\r\n")
	if l := c.status(); !strings.HasPrefix(l, "+OK") {
		c.conn.Close()
		return nil, l
	}
	return c, ""
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
