package pop3client

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/mailcheck/mailcheck/bounds"
)

// Config is how Dial and NewConn reach a server.
type Config struct {
	// ImplicitTLS runs the TLS handshake at once (pop3s, RFC 8314).
	ImplicitTLS bool
	// TLS configures the handshake; nil verifies against the system roots
	// with the dialed host's name.
	TLS *tls.Config
	// Timeout bounds the connection, the handshake, and every read and
	// write. Default DefaultTimeout.
	Timeout time.Duration
	// Line bounds a line read (bounds.Default.Line when 0).
	Line int
	// Record, when set, sees every octet sent (fromServer false) and
	// every line read: the transcript hook.
	Record func(fromServer bool, b []byte)
}

// DefaultTimeout bounds each wait of a Conn when Config.Timeout is 0. RFC
// 1939 §3 gives a server's autologout timer at least 10 minutes; a client
// waits for an answer far less.
const DefaultTimeout = 30 * time.Second

// ErrTimeout is wrapped by a read or write that got nowhere in time.
var ErrTimeout = errors.New("timed out")

// Conn is a Wire over a network connection.
type Conn struct {
	nc   net.Conn
	r    *bufio.Reader
	cfg  Config
	host string
	tls  bool
}

// Dial connects to addr (host:port) within the timeout, with the TLS
// handshake first for implicit TLS, and returns a Client over it.
func Dial(ctx context.Context, addr string, cfg Config, p bounds.Policy) (*Client, error) {
	cfg = cfg.withDefaults()
	d := net.Dialer{Timeout: cfg.Timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	c, err := NewConn(nc, host, cfg)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return New(c, p), nil
}

// NewConn wraps a connection the caller made; host names the server for
// TLS. With Config.ImplicitTLS the handshake runs now.
func NewConn(nc net.Conn, host string, cfg Config) (*Conn, error) {
	cfg = cfg.withDefaults()
	c := &Conn{nc: nc, r: bufio.NewReaderSize(nc, 4096), cfg: cfg, host: host}
	if cfg.ImplicitTLS {
		if err := c.StartTLS(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (cfg Config) withDefaults() Config {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Line <= 0 {
		cfg.Line = bounds.Default.Line
	}
	return cfg
}

// ReadLine reads one line, its line end included, of at most Config.Line
// octets, waiting at most the timeout.
func (c *Conn) ReadLine() ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(c.cfg.Timeout))
	var line []byte
	for {
		chunk, err := c.r.ReadSlice('\n')
		line = append(line, chunk...)
		switch {
		case len(line) > c.cfg.Line:
			return nil, &bounds.ExceededError{What: "line", Limit: int64(c.cfg.Line)}
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == nil:
			c.record(true, line)
			return line, nil
		case errors.Is(err, io.EOF):
			c.record(true, line)
			return nil, fmt.Errorf("the server closed the connection: %w", io.ErrUnexpectedEOF)
		}
		return nil, c.wireError(err)
	}
}

// Write sends b as is, waiting at most the timeout.
func (c *Conn) Write(b []byte) error {
	c.record(false, b)
	c.nc.SetWriteDeadline(time.Now().Add(c.cfg.Timeout))
	_, err := c.nc.Write(b)
	return c.wireError(err)
}

func (c *Conn) record(fromServer bool, b []byte) {
	if c.cfg.Record != nil && len(b) > 0 {
		c.cfg.Record(fromServer, b)
	}
}

func (c *Conn) wireError(err error) error {
	if errors.Is(err, net.ErrClosed) || err == nil {
		return err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: nothing from the server within %v", ErrTimeout, c.cfg.Timeout)
	}
	return err
}

// StartTLS runs the client handshake (after STLS, or at once for implicit
// TLS). What the server sent in plain text and was not read is dropped:
// it is no part of the TLS session (RFC 2595 §4).
func (c *Conn) StartTLS() error {
	cfg := &tls.Config{}
	if c.cfg.TLS != nil {
		cfg = c.cfg.TLS.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = c.host
	}
	tc := tls.Client(c.nc, cfg)
	tc.SetDeadline(time.Now().Add(c.cfg.Timeout))
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	tc.SetDeadline(time.Time{})
	c.nc, c.r, c.tls = tc, bufio.NewReaderSize(tc, 4096), true
	return nil
}

// TLS reports whether the connection is encrypted.
func (c *Conn) TLS() bool { return c.tls }

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }
