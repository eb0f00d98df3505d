package lineserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/reference/certs"
)

var errTestClosed = errors.New("test server closed")

// countingListener counts the writes to every connection it accepts: the
// syscalls a session makes to send its replies.
type countingListener struct {
	net.Listener
	writes atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, &l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// start serves cfg on a loopback port until the test ends; zero limits get
// test defaults.
func start(t *testing.T, cfg Config) (*Server, string, *countingListener) {
	t.Helper()
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = 10
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 5 * time.Second
	}
	if cfg.ReadBufferSize == 0 {
		cfg.ReadBufferSize = 64
	}
	if cfg.ErrClosed == nil {
		cfg.ErrClosed = errTestClosed
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: l}
	srv := New(cfg)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(cl) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, errTestClosed) {
			t.Errorf("Serve returned %v, want the configured ErrClosed", err)
		}
	})
	return srv, l.Addr().String(), cl
}

type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (c *client) send(s string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// expect reads one line and fails the test unless it is want (without CRLF).
func (c *client) expect(want string) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reading %q: %v", want, err)
	}
	if got := strings.TrimSuffix(l, "\r\n"); got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

// closed reports whether the server closed the connection with nothing
// more to read.
func (c *client) closed() bool {
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.r.ReadByte()
	return errors.Is(err, io.EOF)
}

// echo is a Handler that greets, then answers each line "ok <line>"; BEGIN
// and END mark the session busy and not, and a session that sees the
// shutdown says bye.
func echo(c *Conn) {
	w := c.Writer()
	w.WriteString("ready\r\n")
	for {
		if c.ShuttingDown() {
			w.WriteString("bye\r\n")
			c.Flush()
			return
		}
		line, err := c.ReadLine(32)
		switch {
		case errors.Is(err, ErrLineTooLong):
			w.WriteString("too long\r\n")
			continue
		case errors.Is(err, ErrInterrupted):
			w.WriteString("interrupted\r\n")
			c.Flush()
			return
		case err != nil:
			return
		}
		cmd := strings.TrimSuffix(string(line), "\r\n")
		switch cmd {
		case "BEGIN":
			c.SetBusy(true)
		case "END":
			c.SetBusy(false)
		case "QUIT":
			return
		}
		w.WriteString("ok " + cmd + "\r\n")
	}
}

func TestReadLineConsumesOverlongLine(t *testing.T) {
	_, addr, _ := start(t, Config{Handler: echo})
	c := dial(t, addr)
	c.expect("ready")
	// Over the limit but within the buffer, then over the buffer too: each
	// is consumed whole and the next line is read in step.
	c.send("short\r\n" + strings.Repeat("x", 40) + "\r\n" + strings.Repeat("y", 500) + "\r\nnext\r\n")
	c.expect("ok short")
	c.expect("too long")
	c.expect("too long")
	c.expect("ok next")
	// A line that fills the limit exactly, CRLF included, is whole.
	c.send(strings.Repeat("z", 30) + "\r\n")
	c.expect("ok " + strings.Repeat("z", 30))
}

func TestReadLineEOFInsideOverlongLine(t *testing.T) {
	errs := make(chan error, 1)
	_, addr, _ := start(t, Config{Handler: func(c *Conn) {
		_, err := c.ReadLine(16)
		errs <- err
	}})
	c := dial(t, addr)
	c.send(strings.Repeat("x", 200))
	c.conn.(*net.TCPConn).CloseWrite()
	if err := <-errs; !errors.Is(err, io.EOF) {
		t.Errorf("ReadLine = %v, want io.EOF: an unterminated line is not a line", err)
	}
}

// TestRepliesFlushedBeforeRead checks the pipelining contract: replies
// queued without Flush go out before the session blocks in a read, in
// order, and the replies to commands that arrived together go out in one
// write.
func TestRepliesFlushedBeforeRead(t *testing.T) {
	_, addr, l := start(t, Config{Handler: echo})
	c := dial(t, addr)
	c.expect("ready") // queued, never flushed by the handler
	if n := l.writes.Load(); n != 1 {
		t.Fatalf("%d writes for the greeting", n)
	}
	c.send("A\r\nB\r\nC\r\n")
	c.expect("ok A")
	c.expect("ok B")
	c.expect("ok C")
	if n := l.writes.Load() - 1; n != 1 {
		t.Errorf("%d writes for three pipelined replies, want 1", n)
	}
}

func TestShutdownInterruptsIdleNotBusy(t *testing.T) {
	srv, addr, _ := start(t, Config{Handler: echo})
	idle := dial(t, addr)
	idle.expect("ready")
	busy := dial(t, addr)
	busy.expect("ready")
	busy.send("BEGIN\r\n")
	busy.expect("ok BEGIN")

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	idle.expect("interrupted")
	if !idle.closed() {
		t.Error("interrupted session left open")
	}
	// Shutdown interrupts under srv.mu: once it is free again, every
	// session has been dealt with.
	srv.mu.Lock()
	srv.mu.Unlock()

	// The busy session still reads and is not told to stop...
	busy.send("MORE\r\n")
	busy.expect("ok MORE")
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a busy session", err)
	default:
	}
	// ... until it is no longer busy.
	busy.send("END\r\n")
	busy.expect("ok END")
	busy.expect("bye")
	if !busy.closed() {
		t.Error("session left open after its goodbye")
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still accepting after Shutdown")
	}
}

func TestShutdownDeadlineClosesBusy(t *testing.T) {
	srv, addr, _ := start(t, Config{Handler: echo})
	busy := dial(t, addr)
	busy.expect("ready")
	busy.send("BEGIN\r\n")
	busy.expect("ok BEGIN")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want the context's error", err)
	}
	if !busy.closed() {
		t.Error("busy session left open after Shutdown's deadline")
	}
}

func TestServeAfterShutdown(t *testing.T) {
	srv := New(Config{MaxConnections: 1, IdleTimeout: time.Second, ReadBufferSize: 64, Handler: echo})
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(l); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve = %v, want ErrServerClosed", err)
	}
	if _, err := l.Accept(); err == nil {
		t.Error("listener left open")
	}
	select {
	case <-srv.Done():
	default:
		t.Error("Done not closed after Shutdown")
	}
}

func TestIdleTimeout(t *testing.T) {
	errs := make(chan error, 1)
	_, addr, _ := start(t, Config{IdleTimeout: 100 * time.Millisecond, Handler: func(c *Conn) {
		_, err := c.ReadLine(16)
		errs <- err
	}})
	dial(t, addr)
	err := <-errs
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || errors.Is(err, ErrInterrupted) {
		t.Errorf("ReadLine = %v, want a timeout", err)
	}
}

func TestConnectionLimit(t *testing.T) {
	_, addr, _ := start(t, Config{
		MaxConnections: 1,
		Handler:        echo,
		Refuse:         func(nc net.Conn) { nc.Write([]byte("busy\r\n")) },
	})
	a := dial(t, addr)
	a.expect("ready")
	b := dial(t, addr)
	b.expect("busy")
	if !b.closed() {
		t.Error("refused connection left open")
	}
	a.send("QUIT\r\n")
	if !a.closed() {
		t.Fatal("session open after QUIT")
	}
	// The slot is free once the session is unregistered, just after the
	// client sees it close.
	deadline := time.Now().Add(5 * time.Second)
	for {
		d := dial(t, addr)
		d.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if l, _ := d.r.ReadString('\n'); l == "ready\r\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no slot freed after a session ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConnectionLimitWithoutRefuse(t *testing.T) {
	_, addr, _ := start(t, Config{MaxConnections: 1, Handler: echo})
	dial(t, addr).expect("ready")
	if !dial(t, addr).closed() {
		t.Error("connection over the limit left open")
	}
}

// TestStartTLSDiscardsPipelinedPlaintext checks RFC 3207 §5: the reply to
// the command goes out in clear, and plaintext sent after the command is
// never read as though it had come over TLS.
func TestStartTLSDiscardsPipelinedPlaintext(t *testing.T) {
	cfg, err := certs.SelfSigned("lineserver.example")
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		before, after bool
		line          string
		err           error
	}
	results := make(chan result, 1)
	_, addr, _ := start(t, Config{Handler: func(c *Conn) {
		var r result
		defer func() { results <- r }()
		if _, r.err = c.ReadLine(32); r.err != nil {
			return
		}
		c.Writer().WriteString("go ahead\r\n")
		r.before = c.TLS()
		if r.err = c.StartTLS(cfg); r.err != nil {
			return
		}
		r.after = c.TLS()
		line, err := c.ReadLine(32)
		r.line, r.err = string(line), err
	}})
	c := dial(t, addr)
	c.send("STARTTLS\r\nINJECTED\r\n")
	c.expect("go ahead")
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	tc.Write([]byte("AFTER\r\n"))
	r := <-results
	if r.err != nil || r.line != "AFTER\r\n" {
		t.Errorf("line after the handshake %q, %v; want AFTER", r.line, r.err)
	}
	if r.before || !r.after {
		t.Errorf("TLS() = %v before, %v after", r.before, r.after)
	}
}

func TestConnIDs(t *testing.T) {
	ids := make(chan string, 2)
	_, addr, _ := start(t, Config{Handler: func(c *Conn) { ids <- c.ID() }})
	dial(t, addr)
	dial(t, addr)
	a, b := <-ids, <-ids
	pa, _, _ := strings.Cut(a, "-")
	pb, _, _ := strings.Cut(b, "-")
	if a == b || pa != pb || pa == "" {
		t.Errorf("ids %q and %q: want one server prefix, distinct counters", a, b)
	}
}

// TestTrickledLineTimesOut checks that the idle timeout is a deadline for a
// whole line, not for each read: a client sending one octet at a time, each
// well within the timeout, is still cut off once the line has taken longer
// than the timeout. With a deadline per read it would be served forever.
func TestTrickledLineTimesOut(t *testing.T) {
	const idle = 300 * time.Millisecond
	errs := make(chan error, 1)
	_, addr, _ := start(t, Config{IdleTimeout: idle, ReadBufferSize: 64, Handler: func(c *Conn) {
		_, err := c.ReadLine(64)
		errs <- err
	}})
	c := dial(t, addr)
	// One octet every idle/6: the line is never complete, and no read
	// waits anywhere near the idle timeout. 60 octets take 10 idle periods.
	var err error
	for i := 0; i < 60; i++ {
		c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, werr := c.conn.Write([]byte("x")); werr != nil {
			break // the server closed the connection: what we want
		}
		select {
		case err = <-errs:
		case <-time.After(idle / 6):
			continue
		}
		break
	}
	if err == nil {
		t.Fatal("a line trickled for 10 idle timeouts is still being read")
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("ReadLine = %v, want a timeout", err)
	}
}

// TestEndlessLineTimesOut checks that a line that never ends, streamed as
// fast as the server reads it, is cut off at the idle timeout rather than
// consumed for as long as the client keeps sending: the client here never
// pauses, so no single read ever waits long.
func TestEndlessLineTimesOut(t *testing.T) {
	const idle = 200 * time.Millisecond
	errs := make(chan error, 1)
	_, addr, _ := start(t, Config{IdleTimeout: idle, Handler: func(c *Conn) {
		_, err := c.ReadLine(32)
		errs <- err
	}})
	c := dial(t, addr)
	chunk := []byte(strings.Repeat("x", 4096))
	// 15 idle timeouts of sending without a pause.
	for end := time.Now().Add(15 * idle); time.Now().Before(end); {
		select {
		case err := <-errs:
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("ReadLine = %v, want a timeout", err)
			}
			return
		default:
		}
		c.conn.SetWriteDeadline(time.Now().Add(time.Second))
		c.conn.Write(chunk) // fails once the server has closed: the loop then sees errs
	}
	t.Fatal("an endless line was still being read after 15 idle timeouts")
}

// TestLineDeadlineIsPerLine checks that the deadline starts again for each
// line: a session whose lines each arrive within the timeout lasts longer
// than the timeout.
func TestLineDeadlineIsPerLine(t *testing.T) {
	const idle = 300 * time.Millisecond
	lines := make(chan string, 10)
	_, addr, _ := start(t, Config{IdleTimeout: idle, Handler: func(c *Conn) {
		defer close(lines)
		for {
			l, err := c.ReadLine(32)
			if err != nil {
				return
			}
			lines <- string(l)
		}
	}})
	c := dial(t, addr)
	for i := 0; i < 4; i++ {
		c.send("a")
		time.Sleep(idle / 3)
		c.send("b\r\n")
		select {
		case l := <-lines:
			if l != "ab\r\n" {
				t.Fatalf("line %d = %q", i, l)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("line %d not read", i)
		}
		time.Sleep(idle / 3)
	}
}

// TestInputDeadline checks SetInputDeadline: reads that each come well
// within the idle timeout fail once the input deadline has passed.
func TestInputDeadline(t *testing.T) {
	errs := make(chan error, 1)
	_, addr, _ := start(t, Config{IdleTimeout: 5 * time.Second, Handler: func(c *Conn) {
		c.SetInputDeadline(time.Now().Add(300 * time.Millisecond))
		_, err := io.Copy(io.Discard, c.Reader())
		errs <- err
	}})
	c := dial(t, addr)
	for i := 0; i < 100; i++ {
		c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.conn.Write([]byte("x\r\n")); err != nil {
			break
		}
		select {
		case err := <-errs:
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("read = %v, want a timeout", err)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("reads went on 5s past the input deadline")
}
