package session

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"time"

	"github.com/mailcheck/mailcheck/agent/transcript"
	"github.com/mailcheck/mailcheck/bounds"
	"github.com/mailcheck/mailcheck/target"
)

// Options are what every session needs to reach its server.
type Options struct {
	// Target is the server: protocol, address, implicit TLS.
	Target target.Target
	// TLS verifies the server (CA pool, or no verification); nil means the
	// system roots. The server name defaults to the target's host.
	TLS *tls.Config
	// StartTLS is the upgrade policy of a plain connection.
	StartTLS StartTLS
	// User and Password authenticate; no User, no authentication.
	User, Password string
	// Timeout bounds every wait for the server: the connection, the TLS
	// handshake, each read and each write. Default 30s.
	Timeout time.Duration
	// Transcript, when not nil, records the session.
	Transcript *transcript.Transcript
	// Bounds limits what the session reads from the server; zero fields
	// take DefaultBounds' values.
	Bounds bounds.Policy
}

// DefaultBounds is what a user-agent session reads: a line, a listing
// and a message as bounds.Default has them (a message is held in memory
// before it is written out), and no total, since fetch reads whole
// mailboxes one bounded message at a time.
var DefaultBounds = bounds.Policy{Total: math.MaxInt64}.WithDefaults()

// Policy is the session's read bounds, DefaultBounds filling in zero
// fields.
func (o Options) Policy() bounds.Policy {
	p := o.Bounds
	if p.Total <= 0 {
		p.Total = DefaultBounds.Total
	}
	return p.WithDefaults()
}

// DefaultTimeout is Options.Timeout when zero.
const DefaultTimeout = 30 * time.Second

// MaxLineLength is bounds.Default.Line, the default bound of a protocol
// line (a reply, a response) from the server, so a server that never
// sends a line end cannot make the client buffer without end. RFC 5321
// §4.5.3.1.5 allows 512 octets for an SMTP reply line and RFC 1939 §3 512
// for a POP3 response; IMAP lines carry capability lists, hence the
// margin.
//
// Deprecated: the bound is Options.Bounds.Line.
const MaxLineLength = 64 << 10

// ErrTimeout is wrapped by a read or write that got nowhere within the
// timeout.
var ErrTimeout = errors.New("timed out")

// Conn is a line connection to a server: every write and read is recorded
// in the transcript and bounded by the timeout, and the context's end
// closes it.
type Conn struct {
	nc      net.Conn
	r       *bufio.Reader
	opts    Options
	tls     bool
	stopCtx func() bool
	ctx     context.Context
}

// Dial connects to the target, with the TLS handshake first for an
// implicit-TLS target (RFC 8314). Failures are in the Connect or TLS stage.
func Dial(ctx context.Context, opts Options) (*Conn, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	opts.Transcript.Note("connecting to %s", opts.Target.Addr)
	d := net.Dialer{Timeout: opts.Timeout}
	nc, err := d.DialContext(ctx, "tcp", opts.Target.Addr)
	if err != nil {
		return nil, Fail(Connect, err)
	}
	c := &Conn{nc: nc, r: bufio.NewReaderSize(nc, 16<<10), opts: opts, ctx: ctx}
	c.stopCtx = context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	opts.Transcript.Note("connected to %s", nc.RemoteAddr())
	if opts.Target.ImplicitTLS {
		if err := c.StartTLS(); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// StartTLS runs the client TLS handshake on the connection, after the
// protocol's STARTTLS/STLS exchange (or at once for implicit TLS). What the
// server sent in plain text before the handshake and the client has not
// read is dropped: it is not part of the TLS session (RFC 3207 §5; the
// injection attack of CVE-2011-0411).
func (c *Conn) StartTLS() error {
	cfg := &tls.Config{}
	if c.opts.TLS != nil {
		cfg = c.opts.TLS.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = c.opts.Target.Host()
	}
	if n := c.r.Buffered(); n > 0 {
		c.opts.Transcript.Note("%d octets sent in plain text before the TLS handshake are dropped", n)
	}
	tc := tls.Client(c.nc, cfg)
	tc.SetDeadline(time.Now().Add(c.opts.Timeout))
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.opts.Transcript.Note("TLS handshake failed: %v", err)
		var unknown x509.UnknownAuthorityError
		var host x509.HostnameError
		if errors.As(err, &unknown) || errors.As(err, &host) {
			// Test servers mostly have self-signed certificates: say how
			// to trust one.
			return Fail(TLS, fmt.Errorf("TLS handshake: %w (trust the server's CA with --ca FILE, or skip the check with --tls-skip-verify)", err))
		}
		return Fail(TLS, fmt.Errorf("TLS handshake: %w", err))
	}
	st := tc.ConnectionState()
	c.opts.Transcript.Note("TLS established: %s, %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	c.nc, c.r, c.tls = tc, bufio.NewReaderSize(tc, 16<<10), true
	return nil
}

// TLS reports whether the connection is encrypted.
func (c *Conn) TLS() bool { return c.tls }

// Options returns the session's options.
func (c *Conn) Options() Options { return c.opts }

// Transcript is the session's transcript (nil when none).
func (c *Conn) Transcript() *transcript.Transcript { return c.opts.Transcript }

// WriteLine sends line and CRLF.
func (c *Conn) WriteLine(line string) error {
	return c.Write([]byte(line + "\r\n"))
}

// Write sends b, protocol lines, as is.
func (c *Conn) Write(b []byte) error {
	c.opts.Transcript.Line(transcript.Client, b)
	return c.write(b)
}

func (c *Conn) write(b []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(c.opts.Timeout))
	_, err := c.nc.Write(b)
	return c.wireError(err)
}

// ReadLine reads one protocol line, its line end included.
func (c *Conn) ReadLine() ([]byte, error) {
	line, err := c.readLine(c.opts.Policy().Line)
	if len(line) > 0 {
		c.opts.Transcript.Line(transcript.Server, line)
	}
	return line, err
}

// ReadDataLine reads one line of message data of at most max octets, its
// line end included; the transcript counts it as data.
func (c *Conn) ReadDataLine(max int) ([]byte, error) {
	line, err := c.readLine(max)
	c.opts.Transcript.Data(transcript.Server, line)
	return line, err
}

// readLine reads up to and including LF, at most max octets.
func (c *Conn) readLine(max int) ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(c.opts.Timeout))
	var line []byte
	for {
		chunk, err := c.r.ReadSlice('\n')
		line = append(line, chunk...)
		tooLong := len(line) > max || errors.Is(err, bufio.ErrBufferFull) && len(line) >= max
		switch {
		case tooLong:
			return nil, fmt.Errorf("server line longer than %d octets", max)
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return line, fmt.Errorf("connection closed inside a line: %w", io.ErrUnexpectedEOF)
		}
		return line, c.wireError(err)
	}
}

// wireError explains a read or write error: a timeout, the context's end,
// the server closing the connection.
func (c *Conn) wireError(err error) error {
	switch {
	case err == nil:
		return nil
	case c.ctx.Err() != nil:
		return c.ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w: nothing from the server within %v", ErrTimeout, c.opts.Timeout)
	case errors.Is(err, io.EOF):
		return errors.New("the server closed the connection")
	}
	return err
}

// Detach hands the connection over to another client (the IMAP client):
// it returns the network connection, TLS included, and the octets already
// read from it but not consumed. The Conn must not be used afterwards.
func (c *Conn) Detach() (net.Conn, []byte) {
	c.stopCtx()
	c.nc.SetDeadline(time.Time{})
	buffered, _ := c.r.Peek(c.r.Buffered())
	return c.nc, bytes.Clone(buffered)
}

// Close closes the connection.
func (c *Conn) Close() error {
	c.stopCtx()
	return c.nc.Close()
}
