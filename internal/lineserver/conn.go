package lineserver

import (
	"bufio"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

// ErrInterrupted is returned by a read of a Conn that Shutdown interrupted
// while it was not busy: the session should answer its protocol's
// "shutting down" reply and end.
var ErrInterrupted = errors.New("session interrupted by shutdown")

// ErrLineTooLong is returned by ReadLine for a line longer than its limit,
// after the whole line has been consumed.
var ErrLineTooLong = errors.New("line too long")

// Conn is one session's connection. Its methods are for the session's own
// goroutine; the Server reaches it from outside only to interrupt or close
// it, which is safe at any time.
//
// Reads go through Reader, and before each read from the network the
// replies queued in Writer are flushed: a session can queue one reply per
// command and let them go out together when it runs out of pipelined input
// (RFC 2920, RFC 2449 §6.6), in order, without ever blocking on a read with
// replies unsent.
type Conn struct {
	raw  net.Conn // the accepted connection; never replaced
	conn net.Conn // raw, or the TLS connection over it
	r    *bufio.Reader
	w    *bufio.Writer
	in   connReader // what r reads from; a field, to save an allocation
	out  connWriter // what w writes to
	idle time.Duration
	done <-chan struct{} // the server's, closed when draining starts
	id   string
	log  *slog.Logger

	// inLine is set while ReadLine waits for a line; lineDeadline is when
	// that line must be complete, set at the line's first read from the
	// network (zero until then, and outside ReadLine).
	inLine       bool
	lineDeadline time.Time
	// inputDeadline, when not zero, bounds every read (SetInputDeadline).
	inputDeadline time.Time

	mu          sync.Mutex // guards busy and interrupted, and orders them with raw's read deadline
	busy        bool
	interrupted bool
}

func newConn(s *Server, nc net.Conn) *Conn {
	c := &Conn{
		raw:  nc,
		conn: nc,
		idle: s.cfg.IdleTimeout,
		done: s.done,
		id:   s.idPrefix + strconv.FormatUint(s.nextID.Add(1), 36),
	}
	c.in.c, c.out.c = c, c
	c.r = bufio.NewReaderSize(&c.in, s.cfg.ReadBufferSize)
	c.w = bufio.NewWriterSize(&c.out, defaultWriteBufferSize)
	return c
}

// ID is the session's identifier for logs: unique across restarts of the
// process, as it starts with the server's start time.
func (c *Conn) ID() string { return c.id }

// Log is Config.Logger with the session's id and the client's address
// attached, for everything the session logs.
func (c *Conn) Log() *slog.Logger { return c.log }

// RemoteAddr is the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// TLS reports whether the session runs over TLS: after StartTLS, or from
// the start when the listener was a TLS listener.
func (c *Conn) TLS() bool {
	_, ok := c.conn.(*tls.Conn)
	return ok
}

// Reader is the session's buffered reader. It stays the same for the whole
// session, across StartTLS, so a protocol may keep it in a field.
func (c *Conn) Reader() *bufio.Reader { return c.r }

// Writer is the session's buffered writer, where replies are queued; it
// stays the same for the whole session, across StartTLS. What is queued goes
// out when the buffer fills, before the next read from the network, or on
// Flush.
func (c *Conn) Writer() *bufio.Writer { return c.w }

// Flush sends the queued replies now, as a session must before it sleeps,
// ends, or does anything else slow that is not a read.
func (c *Conn) Flush() error { return c.w.Flush() }

// Close closes the connection, through its TLS layer if there is one so the
// client gets a close_notify. The Server calls it when the Handler returns;
// a session calls it only to end at once from inside a command.
func (c *Conn) Close() error { return c.conn.Close() }

// ReadLine reads one line, LF included; the slice is valid until the next
// read. A line longer than limit octets is consumed whole and reported as
// ErrLineTooLong, so the session stays in step with the client and can
// answer it and go on. limit must not exceed Config.ReadBufferSize: a line
// that does not fit the buffer counts as too long.
//
// The whole line, however long, must arrive within Config.IdleTimeout of
// the first read from the network it needs: the timeout is a deadline for
// the line, not for each read, so a client that trickles a line an octet at
// a time, or streams a line that never ends, cannot hold the session
// (slowloris) and gets the same timeout error as an idle one.
func (c *Conn) ReadLine(limit int) ([]byte, error) {
	c.inLine = true
	defer func() { c.inLine, c.lineDeadline = false, time.Time{} }()
	line, err := c.r.ReadSlice('\n')
	if err == nil && len(line) <= limit {
		return line, nil
	}
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = c.r.ReadSlice('\n')
	}
	if err != nil {
		return nil, err
	}
	return nil, ErrLineTooLong
}

// SetInputDeadline bounds every read from the network until it is called
// again with the zero time: the reads must be done by t, whatever
// Config.IdleTimeout allows each. A protocol uses it to bound the whole of a
// long input that is not one line (an SMTP message after DATA), so a client
// sending it an octet at a time cannot hold the session. Each read is still
// bounded by Config.IdleTimeout too.
func (c *Conn) SetInputDeadline(t time.Time) { c.inputDeadline = t }

// Pause sends the replies queued, then waits d (the delay after a failed
// login); the server's shutdown cuts it short.
func (c *Conn) Pause(d time.Duration) {
	if d <= 0 {
		return
	}
	c.w.Flush()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.done:
	}
}

// SetBusy marks whether the session is in the middle of something Shutdown
// must let finish (an SMTP transaction, from MAIL to the reply to DATA).
// Shutdown does not interrupt a busy session's reads; the session notices
// the shutdown with ShuttingDown once it is no longer busy. A command that
// does not read from the client while it runs need not be marked busy: the
// interrupt only takes effect at the session's next read, after it.
func (c *Conn) SetBusy(busy bool) {
	c.mu.Lock()
	c.busy = busy
	c.mu.Unlock()
}

// ShuttingDown reports whether the server is shutting down and the session
// is not busy: the session should send its goodbye and end rather than read
// the next command. A protocol checks it before reading each command, as
// Shutdown's interrupt only reaches a session blocked in a read or about to
// read.
func (c *Conn) ShuttingDown() bool {
	select {
	case <-c.done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return !c.busy
	default:
		return false
	}
}

// interruptIfIdle makes the session's current or next read return
// ErrInterrupted unless it is busy. It is called by Shutdown, from another
// goroutine. It sets the deadline on the accepted connection, which a TLS
// connection reads through, so it needs no access to the current one.
func (c *Conn) interruptIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy {
		return
	}
	c.interrupted = true
	c.raw.SetReadDeadline(time.Now())
}

// StartTLS switches the session to TLS as the server side (STARTTLS, RFC
// 3207; STLS, RFC 2595; or implicit TLS before the greeting). It first
// flushes the queued replies, so the "go ahead" reply goes out in clear
// text, then discards whatever the client sent after the command and the
// reader holds, with a warning in Log: RFC 3207 §5, RFC 2595 §4 and
// CVE-2011-0411 forbid executing plaintext pipelined after the command as
// though it had come over TLS. The handshake is bounded by
// Config.IdleTimeout, and its failure is logged. After any error the
// session must end: the connection is in an unknown state.
func (c *Conn) StartTLS(cfg *tls.Config) error {
	if err := c.w.Flush(); err != nil {
		return err
	}
	if n := c.r.Buffered(); n > 0 {
		c.log.Warn("discarding plaintext pipelined before the TLS handshake", "octets", n)
		c.r.Discard(n)
	}
	tc := tls.Server(c.conn, cfg)
	tc.SetDeadline(time.Now().Add(c.idle))
	if err := tc.Handshake(); err != nil {
		c.log.Info("TLS handshake failed", "err", err)
		return err
	}
	tc.SetDeadline(time.Time{})
	c.conn = tc
	return nil
}

// connReader is what a Conn's bufio.Reader reads from. Before each read
// from the network it flushes the replies still queued and sets the read
// deadline: the idle timeout, or the line's or the input's deadline if
// sooner.
type connReader struct{ c *Conn }

// readDeadline is when the next read from the network must be done by.
func (c *Conn) readDeadline() time.Time {
	now := time.Now()
	d := now.Add(c.idle)
	if c.inLine {
		if c.lineDeadline.IsZero() {
			c.lineDeadline = d
		}
		d = c.lineDeadline
	}
	if !c.inputDeadline.IsZero() && c.inputDeadline.Before(d) {
		d = c.inputDeadline
	}
	return d
}

func (d *connReader) Read(p []byte) (int, error) {
	c := d.c
	if c.w.Buffered() > 0 {
		if err := c.w.Flush(); err != nil {
			return 0, err
		}
	}
	c.mu.Lock()
	if c.interrupted {
		c.mu.Unlock()
		return 0, ErrInterrupted
	}
	c.conn.SetReadDeadline(c.readDeadline())
	c.mu.Unlock()
	n, err := c.conn.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		c.mu.Lock()
		if c.interrupted {
			err = ErrInterrupted
		}
		c.mu.Unlock()
	}
	return n, err
}

// connWriter bounds each write to the network, so a client that stops
// reading cannot hold a session forever.
type connWriter struct{ c *Conn }

func (d *connWriter) Write(p []byte) (int, error) {
	d.c.conn.SetWriteDeadline(time.Now().Add(d.c.idle))
	return d.c.conn.Write(p)
}
