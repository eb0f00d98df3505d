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

	"github.com/mailcheck/mailcheck/smtp/smtpclient"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// Conn is a line-level client connection that records everything in the
// check's transcript and can send exactly the bytes a check needs: bare LF,
// 8-bit octets, over-long lines, pipelined bursts. Every read waits at most
// the read timeout of its phase (see Phase; Options.ReadTimeout overrides
// them all), and never past the check's deadline. The phase comes from
// what the client last sent (the greeting before anything; for SMTP MAIL,
// RCPT, DATA and the end of data their own), or from Expect. An answer
// that comes SlowPhase or more after the client connected or wrote is
// noted as evidence.
type Conn struct {
	t   *T
	ctx context.Context
	nc  net.Conn
	r   *bufio.Reader
	tls bool
	// protocol is the target's: it tells the phases apart.
	protocol string
	// phase and waiting are what the next read waits for, and its name
	// in the evidence ("greeting", "reply to MAIL").
	phase   Phase
	waiting string
	// asked is when the client connected or last wrote; timed is set once
	// the first read after it has been timed (the answer's latency).
	asked time.Time
	timed bool
	// heard is set once the server has sent anything.
	heard bool
	// patience, when set, lengthens the read timeout for this
	// connection (a server may delay a failed login on purpose).
	patience time.Duration
	// within, when set, is the exact wait of the next reads: for a reply
	// that a correct server does not send (SetWithin).
	within time.Duration
	// smtp is the SMTP client over this connection, made on first use.
	smtp *smtpclient.Client
}

// SetPatience makes reads on this connection wait up to d, or the phase's
// read timeout if that is longer (still within the check's deadline).
func (c *Conn) SetPatience(d time.Duration) { c.patience = d }

// SetWithin makes the next reads wait exactly d, however long the phase's
// RFC timeout is; 0 restores the phase's. It is for a wait whose subject is
// a reply a correct server does not send at all (an answer to a false end
// of data): silence is the expected outcome, so the wait is short and
// bounded. A reply that comes later is still read afterwards, and a check
// must judge it as arriving late, not as absent.
func (c *Conn) SetWithin(d time.Duration) { c.within = d }

// Expect sets the phase of the next reads explicitly (what names it in the
// evidence); a write sets it again from what was sent.
func (c *Conn) Expect(p Phase, what string) {
	c.phase, c.waiting = p, what
	c.asked, c.timed = time.Now(), false
}

// ReadTimeout is how long the next read waits for the server.
func (c *Conn) ReadTimeout() time.Duration {
	if c.within > 0 {
		return c.within
	}
	return max(c.patience, c.t.Options.PhaseTimeout(c.phase))
}

// Dial connects to the check's target (with TLS for implicit-TLS targets).
func (t *T) Dial(ctx context.Context) (*Conn, error) {
	return t.DialTarget(ctx, t.Target)
}

// DialTarget connects to another target (a read-back mailbox, say),
// recording into the same transcript. A connection refused or reset is a
// *BusyError: a server at its connection limit turns connections away.
func (t *T) DialTarget(ctx context.Context, target Target) (*Conn, error) {
	d := net.Dialer{Timeout: t.Options.PhaseTimeout(PhaseGreeting)}
	t.Note("connect %s", target)
	start := time.Now()
	nc, err := d.DialContext(ctx, "tcp", target.Addr)
	if err != nil {
		if refused(err) && ctx.Err() == nil {
			return nil, Busy("connect %s: %w", target.Addr, err)
		}
		return nil, fmt.Errorf("connect %s: %w", target.Addr, err)
	}
	t.noteSlow("connect", time.Since(start))
	c := &Conn{t: t, ctx: ctx, nc: nc, protocol: target.Protocol, phase: PhaseGreeting, waiting: "greeting", asked: time.Now()}
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

// readBufferSize bounds a line: ReadLine fails on a longer one. It is the
// policy's Line (Options.Bounds).
const readBufferSize = 64 << 10

// ErrReceiveLimit wraps reads past Options.MaxReceive (the policy's Total,
// Options.Bounds): the server sent more than a check reads, and the check
// gives up rather than hold it.
var ErrReceiveLimit = errors.New("the server sent more than a check reads")

// budgetReader reads the connection on behalf of the buffered reader,
// counting against the check's Options.MaxReceive.
type budgetReader struct{ c *Conn }

func (b budgetReader) Read(p []byte) (int, error) {
	t := b.c.t
	limit := t.Options.Bounds().Total
	left := limit - t.received.Load()
	if left <= 0 {
		return 0, fmt.Errorf("%w (more than %d octets): stopped reading", ErrReceiveLimit, limit)
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.c.nc.Read(p)
	t.received.Add(int64(n))
	if n > 0 {
		b.c.heard = true
	}
	return n, err
}

// TLS reports whether the connection is encrypted.
func (c *Conn) TLS() bool { return c.tls }

// deadline is the end of the next read's wait.
func (c *Conn) deadline() time.Time { return c.until(c.ReadTimeout()) }

// until is d from now, or the check's deadline if that comes first.
func (c *Conn) until(d time.Duration) time.Time {
	end := time.Now().Add(d)
	if cd, ok := c.ctx.Deadline(); ok && cd.Before(end) {
		return cd
	}
	return end
}

// Write sends b as is; what it sends sets the phase of the next read.
// Each write may take a data block's time (RFC 5321 §4.5.3.2.5).
func (c *Conn) Write(b []byte) error {
	c.t.record.add(DirClient, b)
	return c.send(b)
}

// send is Write without the transcript (the SMTP client records what it
// sends itself).
func (c *Conn) send(b []byte) error {
	c.phase, c.waiting = waitFor(c.protocol, b)
	c.asked, c.timed = time.Now(), false
	c.nc.SetWriteDeadline(c.until(max(c.patience, c.t.Options.PhaseTimeout(PhaseDataBlock))))
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
	heard := c.heard
	line, err := c.r.ReadSlice('\n')
	c.timeAnswer()
	if len(line) > 0 {
		c.t.record.add(DirServer, line)
	}
	if err != nil && !heard && len(line) == 0 {
		if busy := c.droppedGreeting(err); busy != nil {
			return nil, busy
		}
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
		return fmt.Errorf("%w (%v waiting for the %s)", ErrTimeout, c.ReadTimeout(), c.waiting)
	case errors.Is(err, net.ErrClosed) && c.ctx.Err() != nil:
		return fmt.Errorf("stopped waiting: %w", c.ctx.Err())
	}
	return err
}

// ReadSMTPReply reads one SMTP reply (RFC 5321 §4.2), multi-line or not,
// splitting off enhanced status codes, with the connection's SMTP client.
func (c *Conn) ReadSMTPReply() (*smtpreply.Reply, error) {
	return c.SMTP().ReadReply()
}

// readWith runs read on the connection's reader within the read timeout
// of the phase, timing the answer and explaining a failure: a server that
// dropped the connection before its greeting is busy, a timeout names
// what was awaited.
func (c *Conn) readWith(read func(r *bufio.Reader) error) error {
	c.nc.SetReadDeadline(c.deadline())
	heard := c.heard
	err := read(c.r)
	c.timeAnswer()
	if err != nil && !heard && !c.heard {
		if busy := c.droppedGreeting(err); busy != nil {
			return busy
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w before the reply was complete: %w", ErrServerClosed, err)
	case err != nil:
		return c.readError(err)
	}
	return nil
}

// timeAnswer notes, at the first read after the client connected or
// wrote, how long the server took to answer, when that was slow.
func (c *Conn) timeAnswer() {
	if !c.timed {
		c.timed = true
		c.t.noteSlow(c.waiting, time.Since(c.asked))
	}
}

// droppedGreeting is a *BusyError when the server closed or reset the
// connection before sending its greeting (a server over its connection
// limit does that), nil for any other failed read.
func (c *Conn) droppedGreeting(err error) error {
	if c.phase != PhaseGreeting || !droppedBeforeGreeting(err) || c.ctx.Err() != nil {
		return nil
	}
	return Busy("%w before its greeting: %w", ErrServerClosed, err)
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

// Peek waits up to d (within the check's deadline) for the server to
// send something, without taking it: what came stays for the next read,
// which records it. It returns what is buffered then (empty when nothing
// came) and the error that ended the wait, nil for data or silence.
func (c *Conn) Peek(d time.Duration) ([]byte, error) {
	c.nc.SetReadDeadline(c.until(d))
	b, err := c.r.Peek(1)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = nil
	}
	return b, err
}

// Closed reports whether the server closes the connection within d
// (reading and recording anything it sends first). A wait that the
// check's own end cuts short (its deadline, a cancelled run: the runner
// then closes the connection itself) decides nothing about the server:
// it ends the check with Error, so it must be called from the check's
// goroutine.
func (c *Conn) Closed(d time.Duration) bool {
	end := c.until(d)
	c.nc.SetReadDeadline(end)
	buf := make([]byte, 4096)
	for {
		n, err := c.r.Read(buf)
		if n > 0 {
			c.t.record.add(DirServer, buf[:n])
		}
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) || isReset(err) && !errors.Is(err, net.ErrClosed) {
			return true
		}
		if cd, ok := c.ctx.Deadline(); c.ctx.Err() != nil || ok && !cd.After(end) && errors.Is(err, os.ErrDeadlineExceeded) {
			c.t.ErrorNow(fmt.Errorf("waiting for the server to close the connection: stopped waiting at the check's end (%v)", cmp.Or(c.ctx.Err(), context.DeadlineExceeded)))
		}
		return false
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

// Buffered is how many octets the server sent that no read has taken yet:
// after a whole reply in lock-step, anything here came unasked.
func (c *Conn) Buffered() int { return c.r.Buffered() }

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }
