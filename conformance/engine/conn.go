package engine

import (
	"bufio"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/mailcheck/mailcheck/internal/smtpwire"
)

// Conn is a line-level client connection that records everything in the
// check's transcript and can send exactly the bytes a check needs: bare LF,
// 8-bit octets, over-long lines, pipelined bursts. Every read waits at most
// Options.ReadTimeout (and never past the check's deadline).
type Conn struct {
	t   *T
	ctx context.Context
	nc  net.Conn
	r   *bufio.Reader
	tls bool
	// patience, when set, replaces Options.ReadTimeout for this
	// connection (a server may delay a failed login on purpose).
	patience time.Duration
}

// SetPatience makes reads on this connection wait up to d (still within
// the check's deadline).
func (c *Conn) SetPatience(d time.Duration) { c.patience = d }

// Dial connects to the check's target (with TLS for implicit-TLS targets).
func (t *T) Dial(ctx context.Context) (*Conn, error) {
	return t.DialTarget(ctx, t.Target)
}

// DialTarget connects to another target (a read-back mailbox, say),
// recording into the same transcript.
func (t *T) DialTarget(ctx context.Context, target Target) (*Conn, error) {
	d := net.Dialer{Timeout: t.Options.ReadTimeout}
	t.Note("connect %s", target)
	nc, err := d.DialContext(ctx, "tcp", target.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", target.Addr, err)
	}
	c := &Conn{t: t, ctx: ctx, nc: nc}
	c.r = bufio.NewReaderSize(budgetReader{c}, readBufferSize)
	t.connMu.Lock()
	t.conns = append(t.conns, c)
	t.connMu.Unlock()
	if ctx.Err() != nil {
		// Cancelled while connecting: the runner may have closed the
		// check's connections already, without this one.
		nc.Close()
		return nil, fmt.Errorf("connect %s: %w", target.Addr, ctx.Err())
	}
	if target.ImplicitTLS {
		if err := c.handshake(target); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// readBufferSize bounds a line: ReadLine fails on a longer one.
const readBufferSize = 64 << 10

// ErrReceiveLimit wraps reads past Options.MaxReceive: the server sent more
// than a check reads, and the check gives up rather than hold it.
var ErrReceiveLimit = errors.New("the server sent more than a check reads")

// budgetReader reads the connection on behalf of the buffered reader,
// counting against the check's Options.MaxReceive.
type budgetReader struct{ c *Conn }

func (b budgetReader) Read(p []byte) (int, error) {
	t := b.c.t
	limit := cmp.Or(t.Options.MaxReceive, DefaultMaxReceive)
	left := limit - t.received.Load()
	if left <= 0 {
		return 0, fmt.Errorf("%w (more than %d octets): stopped reading", ErrReceiveLimit, limit)
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.c.nc.Read(p)
	t.received.Add(int64(n))
	return n, err
}

// TLS reports whether the connection is encrypted.
func (c *Conn) TLS() bool { return c.tls }

func (c *Conn) deadline() time.Time {
	d := time.Now().Add(cmp.Or(c.patience, c.t.Options.ReadTimeout))
	if cd, ok := c.ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// Write sends b as is.
func (c *Conn) Write(b []byte) error {
	c.t.record.add(DirClient, b)
	c.nc.SetWriteDeadline(c.deadline())
	_, err := c.nc.Write(b)
	if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("%w: %w", ErrServerClosed, err)
	}
	return err
}

// Send sends line followed by CRLF.
func (c *Conn) Send(line string) error {
	return c.Write([]byte(line + "\r\n"))
}

// ErrTimeout wraps a read that got nothing within the read timeout.
var ErrTimeout = errors.New("no reply within the read timeout")

// ErrServerClosed wraps reads that found the connection closed by the
// server (io.EOF stays in the chain).
var ErrServerClosed = errors.New("the server closed the connection")

// ReadLine reads one line, its line end included.
func (c *Conn) ReadLine() ([]byte, error) {
	c.nc.SetReadDeadline(c.deadline())
	line, err := c.r.ReadSlice('\n')
	if len(line) > 0 {
		c.t.record.add(DirServer, line)
	}
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, fmt.Errorf("server line longer than %d octets", c.r.Size())
	case errors.Is(err, io.EOF) && len(line) > 0:
		return nil, fmt.Errorf("%w in the middle of a line: %w", ErrServerClosed, err)
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%w: %w", ErrServerClosed, err)
	case err != nil:
		return nil, c.readError(err)
	}
	return append([]byte(nil), line...), nil
}

// readError names why a read failed where the bare error would not: the
// read timeout, or the check's end (the runner closes the connections
// when the check's context ends, which reads as a closed connection).
func (c *Conn) readError(err error) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w (%v)", ErrTimeout, c.t.Options.ReadTimeout)
	case errors.Is(err, net.ErrClosed) && c.ctx.Err() != nil:
		return fmt.Errorf("stopped waiting: %w", c.ctx.Err())
	}
	return err
}

// ReadSMTPReply reads one SMTP reply (RFC 5321 §4.2), multi-line or not,
// splitting off enhanced status codes.
func (c *Conn) ReadSMTPReply() (*smtpwire.Reply, error) {
	c.nc.SetReadDeadline(c.deadline())
	r, err := smtpwire.ReadReply(c.r, true, func(line []byte) { c.t.record.add(DirServer, line) })
	switch {
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%w before the reply was complete: %w", ErrServerClosed, err)
	case err != nil:
		return nil, c.readError(err)
	}
	return r, nil
}

// Quiet waits d and reports what the server sent meanwhile (nothing, for a
// server that is correctly waiting for the client).
func (c *Conn) Quiet(d time.Duration) ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	n, err := c.r.Read(buf)
	if n > 0 {
		c.t.record.add(DirServer, buf[:n])
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = nil
	}
	return buf[:n], err
}

// Closed reports whether the server closes the connection within d
// (reading and recording anything it sends first).
func (c *Conn) Closed(d time.Duration) bool {
	c.nc.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	for {
		n, err := c.r.Read(buf)
		if n > 0 {
			c.t.record.add(DirServer, buf[:n])
		}
		if err != nil {
			return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)
		}
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// StartTLS runs the client TLS handshake on the connection (after the
// protocol's STARTTLS/STLS exchange). Buffered plaintext is dropped: what
// the server sent before the handshake is not part of the TLS session.
func (c *Conn) StartTLS() error {
	return c.handshake(c.t.Target)
}

func (c *Conn) handshake(target Target) error {
	cfg := &tls.Config{}
	if c.t.Options.TLS != nil {
		cfg = c.t.Options.TLS.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = target.Host()
	}
	tc := tls.Client(c.nc, cfg)
	tc.SetDeadline(c.deadline())
	if err := tc.Handshake(); err != nil {
		c.t.Note("TLS handshake failed: %v", err)
		return fmt.Errorf("TLS handshake: %w", err)
	}
	tc.SetDeadline(time.Time{})
	c.t.Note("TLS established (%s)", tls.VersionName(tc.ConnectionState().Version))
	c.nc, c.tls = tc, true
	c.r = bufio.NewReaderSize(budgetReader{c}, readBufferSize)
	return nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }
