// Package relay is the SMTP client that the reference server's queue runner
// uses to hand mail to the next server: it finds the destination hosts
// (resolve.go), opens one session per destination and runs any number of
// mail transactions over it (client.go).
package relay

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailcheck/mailcheck/internal/smtpwire"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// Default timeouts. RFC 5321 §4.5.3.2 suggests 5 minutes for the initial
// greeting and for MAIL and RCPT, 10 minutes after the final dot; one
// CommandTimeout covers all of them here.
const (
	DefaultConnectTimeout = 30 * time.Second
	DefaultCommandTimeout = 5 * time.Minute
)

// Options configure a session.
type Options struct {
	// Hostname is the name sent with EHLO/HELO (RFC 5321 §4.1.1.1: the
	// client's fully qualified domain name). Empty means os.Hostname().
	Hostname string
	// ConnectTimeout bounds each TCP connect. Zero means
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// CommandTimeout bounds every read and every write on the connection:
	// each command, each reply, each chunk of message data. Zero means
	// DefaultCommandTimeout.
	CommandTimeout time.Duration
	// TLSConfig is used for STARTTLS (RFC 3207) when the server offers it;
	// ServerName is filled in from the host when empty. Nil means
	// opportunistic TLS without certificate verification (RFC 7435): an
	// encrypted session against a passive listener is better than a
	// cleartext one, and MX certificates often do not match their names.
	TLSConfig *tls.Config
	// Resolver resolves host names when connecting. Nil means
	// net.DefaultResolver.
	Resolver *net.Resolver
	// Logger receives connection failures at Info level and the session
	// transcript at Debug level. Nil discards.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
		if o.Hostname == "" {
			o.Hostname = "localhost"
		}
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = DefaultCommandTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Extensions are the ESMTP extensions the server advertised in its EHLO
// reply that this client uses.
type Extensions struct {
	Pipelining          bool // RFC 2920
	EightBitMIME        bool // RFC 6152
	StartTLS            bool // RFC 3207
	EnhancedStatusCodes bool // RFC 2034
	// SizeAdvertised reports the SIZE keyword (RFC 1870); Size is its
	// fixed limit in octets, 0 when the server declared none.
	SizeAdvertised bool
	Size           int64
}

// ErrSessionClosed is returned by Send once the session can carry no more
// transactions (the connection failed or the server said 421).
var ErrSessionClosed = errors.New("relay: session closed")

// errTLSHandshake marks a failed STARTTLS handshake, after which Dial
// reconnects to the same host without STARTTLS.
var errTLSHandshake = errors.New("STARTTLS handshake failed")

// Client is one SMTP session with one server. It is not safe for
// concurrent use.
type Client struct {
	opts Options
	log  *slog.Logger
	// host is the "host:port" connected to.
	host string
	// raw is the TCP connection, which deadlines are set on; conn is raw
	// or the TLS connection over it, which I/O goes through.
	raw  net.Conn
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	ext  Extensions
	tls  bool
	// closed is set once the connection is unusable: after a network
	// error, a timeout, a 421 reply (RFC 5321 §3.8) or Close.
	closed bool
	// deadlineMu orders deadline updates against the cancellation of a
	// context, so a cancelled operation cannot re-arm a future deadline.
	deadlineMu sync.Mutex
}

// Dial opens a session with the first host of dest that works, in order
// (RFC 5321 §5.1: try the MX hosts in preference order): it connects,
// reads the 220 greeting, sends EHLO (HELO if EHLO is refused), and
// upgrades to TLS with STARTTLS when the server offers it. If the TLS
// handshake fails, the host is tried once more in cleartext.
//
// When no host works, the error is a temporary one if any host failed
// temporarily (a network error or a 4xx), so that a message is not bounced
// while some host may still take it; otherwise it is the last host's 5xx
// *smtpreply.Reply.
func Dial(ctx context.Context, dest Destination, opts Options) (*Client, error) {
	opts = opts.withDefaults()
	if len(dest.Hosts) == 0 {
		return nil, smtpreply.NewReply(451, "4.4.4", "no hosts to deliver to for %s", dest.Domain)
	}
	var lastErr, temporaryErr error
	for _, host := range dest.Hosts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := dialHost(ctx, host, opts, true)
		if errors.Is(err, errTLSHandshake) {
			opts.Logger.Info("relay: STARTTLS failed, retrying in cleartext", "host", host, "err", err)
			c, err = dialHost(ctx, host, opts, false)
		}
		if err == nil {
			return c, nil
		}
		opts.Logger.Info("relay: host failed", "domain", dest.Domain, "host", host, "err", err)
		lastErr = err
		if !IsPermanent(err) {
			temporaryErr = err
		}
	}
	if temporaryErr != nil {
		return nil, temporaryErr
	}
	return nil, lastErr
}

// IsPermanent reports whether err is (or wraps) a 5xx *smtpreply.Reply.
// Network errors, timeouts and 4xx replies are temporary.
func IsPermanent(err error) bool {
	var reply *smtpreply.Reply
	return errors.As(err, &reply) && reply.Permanent()
}

func dialHost(ctx context.Context, host string, opts Options, tryTLS bool) (*Client, error) {
	dialer := net.Dialer{Timeout: opts.ConnectTimeout, Resolver: opts.Resolver}
	conn, err := dialer.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	c := &Client{
		opts: opts,
		log:  opts.Logger.With("host", host),
		host: host,
		raw:  conn,
		conn: conn,
		r:    bufio.NewReader(conn),
		w:    bufio.NewWriter(conn),
	}
	if err := c.open(ctx, tryTLS); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", host, err)
	}
	return c, nil
}

// open runs the start of the session: greeting, EHLO, STARTTLS.
func (c *Client) open(ctx context.Context, tryTLS bool) error {
	defer c.watch(ctx)()
	greeting, err := c.readReply(ctx)
	if err != nil {
		return err
	}
	if greeting.Code != 220 {
		// RFC 5321 §3.1: after a 554 greeting the client should QUIT.
		c.cmd(ctx, "QUIT")
		return greeting
	}
	if err := c.hello(ctx); err != nil {
		return err
	}
	if !tryTLS || !c.ext.StartTLS {
		return nil
	}
	reply, err := c.cmd(ctx, "STARTTLS")
	if err != nil {
		return err
	}
	if reply.Code != 220 {
		// RFC 3207 §4: after a 454 the client decides whether to go on;
		// opportunistic TLS goes on in cleartext.
		c.log.Info("relay: STARTTLS refused, continuing in cleartext", "reply", reply.String())
		return nil
	}
	tlsConn := tls.Client(c.raw, c.tlsConfig())
	if err := c.arm(ctx); err != nil {
		return err
	}
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		c.closed = true
		return fmt.Errorf("%w: %v", errTLSHandshake, err)
	}
	c.conn, c.tls = tlsConn, true
	c.r.Reset(tlsConn)
	c.w.Reset(tlsConn)
	// RFC 3207 §4.2: the client must discard what it learned before TLS
	// and should send EHLO again.
	c.ext = Extensions{}
	return c.hello(ctx)
}

func (c *Client) tlsConfig() *tls.Config {
	host, _, err := net.SplitHostPort(c.host)
	if err != nil {
		host = c.host
	}
	if c.opts.TLSConfig == nil {
		return &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	}
	cfg := c.opts.TLSConfig.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	return cfg
}

// hello sends EHLO and records the extensions; a server that refuses EHLO
// with a 5xx gets HELO (RFC 5321 §3.2) and no extensions are used.
func (c *Client) hello(ctx context.Context) error {
	reply, err := c.cmd(ctx, "EHLO "+c.opts.Hostname)
	if err != nil {
		return err
	}
	if reply.Code == 250 {
		c.ext = parseExtensions(reply.Lines[1:])
		return nil
	}
	if !reply.Permanent() {
		return reply
	}
	reply, err = c.cmd(ctx, "HELO "+c.opts.Hostname)
	if err != nil {
		return err
	}
	if reply.Code != 250 {
		return reply
	}
	return nil
}

// parseExtensions reads the EHLO keywords (RFC 5321 §4.1.1.1: one
// "keyword [params]" per line after the first).
func parseExtensions(lines []string) Extensions {
	var ext Extensions
	for _, line := range lines {
		keyword, params, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(keyword) {
		case "PIPELINING":
			ext.Pipelining = true
		case "8BITMIME":
			ext.EightBitMIME = true
		case "STARTTLS":
			ext.StartTLS = true
		case "ENHANCEDSTATUSCODES":
			ext.EnhancedStatusCodes = true
		case "SIZE":
			ext.SizeAdvertised = true
			// RFC 1870 §4: an absent or zero value means no fixed limit.
			if n, err := strconv.ParseInt(strings.TrimSpace(params), 10, 64); err == nil && n > 0 {
				ext.Size = n
			}
		}
	}
	return ext
}

// Host returns the "host:port" this session is connected to.
func (c *Client) Host() string { return c.host }

// Extensions returns what the server advertised (after STARTTLS, what it
// advertised inside TLS).
func (c *Client) Extensions() Extensions { return c.ext }

// TLS reports whether the session runs over STARTTLS.
func (c *Client) TLS() bool { return c.tls }

// Usable reports whether the session can carry another transaction.
func (c *Client) Usable() bool { return !c.closed }

// Send runs one mail transaction (RFC 5321 §3.3): MAIL, one RCPT per
// recipient, DATA, the message and the final dot.
//
// perRcpt has one element per recipient once the RCPT stage was reached:
// nil for an accepted recipient, or the *smtpreply.Reply that refused it.
// err is the failure of the transaction as a whole — the MAIL, DATA or
// end-of-data *smtpreply.Reply, or a network error — in which case no
// recipient received the message. When every recipient is refused, the
// transaction is abandoned with RSET and err is nil.
//
// msg is the message with CRLF line ends, in any chunking; it arrives at
// the server byte for byte (dot stuffing exists on the wire only). After a
// refused transaction the session stays usable for the next one.
func (c *Client) Send(ctx context.Context, from string, rcpts []string, body8bit bool, msg [][]byte) (perRcpt []error, err error) {
	if c.closed {
		return nil, ErrSessionClosed
	}
	if len(rcpts) == 0 {
		return nil, errors.New("relay: no recipients")
	}
	var size int64
	for _, chunk := range msg {
		size += int64(len(chunk))
	}
	if body8bit && !c.ext.EightBitMIME {
		// RFC 6152 §3: a server without 8BITMIME cannot take 8-bit data;
		// the client may return the message instead of converting it.
		return nil, smtpreply.NewReply(554, "5.6.3", "%s does not support 8BITMIME and the message is 8-bit (RFC 6152 §3)", c.host)
	}
	if c.ext.Size > 0 && size > c.ext.Size {
		// RFC 1870 §6: a message over the server's fixed limit is not
		// sent; the failure is permanent.
		return nil, smtpreply.NewReply(552, "5.3.4", "message of %d octets exceeds the %d octet limit of %s (RFC 1870)", size, c.ext.Size, c.host)
	}
	defer c.watch(ctx)()

	mail := "MAIL FROM:<" + from + ">"
	if c.ext.SizeAdvertised {
		mail += " SIZE=" + strconv.FormatInt(size, 10)
	}
	if body8bit {
		mail += " BODY=8BITMIME"
	}
	perRcpt, accepted, err := c.envelope(ctx, mail, rcpts)
	if err != nil || accepted == 0 {
		// Close the transaction so the next one starts clean; the reset is
		// harmless when MAIL itself was refused.
		c.reset(ctx)
		return perRcpt, err
	}

	reply, err := c.cmd(ctx, "DATA")
	if err != nil {
		return perRcpt, err
	}
	if reply.Code != 354 {
		c.reset(ctx)
		return perRcpt, reply
	}
	if err := c.writeData(ctx, msg); err != nil {
		return perRcpt, err
	}
	// RFC 5321 §4.1.1.4: the reply to the final dot ends the transaction,
	// successful or not, so no RSET is needed after it.
	reply, err = c.readReply(ctx)
	if err != nil {
		return perRcpt, err
	}
	if reply.Code/100 != 2 {
		return perRcpt, reply
	}
	return perRcpt, nil
}

// envelope sends MAIL and the RCPTs, as one group when the server allows
// PIPELINING (RFC 2920 §3.1: MAIL and RCPT may be sent without waiting,
// the replies come back in order).
func (c *Client) envelope(ctx context.Context, mail string, rcpts []string) (perRcpt []error, accepted int, err error) {
	pipelined := c.ext.Pipelining
	if err := c.writeLine(ctx, mail); err != nil {
		return nil, 0, err
	}
	if pipelined {
		for _, rcpt := range rcpts {
			if err := c.writeLine(ctx, "RCPT TO:<"+rcpt+">"); err != nil {
				return nil, 0, err
			}
		}
	}
	if err := c.flush(ctx); err != nil {
		return nil, 0, err
	}
	reply, err := c.readReply(ctx)
	if err != nil {
		return nil, 0, err
	}
	if reply.Code/100 != 2 {
		if pipelined {
			// Drain the RCPT replies the server owes us. If that fails the
			// session is closed, but MAIL's reply is still the answer.
			for range rcpts {
				if _, err := c.readReply(ctx); err != nil {
					break
				}
			}
		}
		return nil, 0, reply
	}
	perRcpt = make([]error, len(rcpts))
	for i, rcpt := range rcpts {
		if !pipelined {
			if err := c.writeLine(ctx, "RCPT TO:<"+rcpt+">"); err != nil {
				return perRcpt, accepted, err
			}
			if err := c.flush(ctx); err != nil {
				return perRcpt, accepted, err
			}
		}
		reply, err := c.readReply(ctx)
		if err != nil {
			return perRcpt, accepted, err
		}
		if reply.Code/100 == 2 {
			accepted++
		} else {
			perRcpt[i] = reply
		}
	}
	return perRcpt, accepted, nil
}

// writeData sends the message dot-stuffed and the final dot, re-arming the
// deadline for every chunk so a large message on a slow link is bounded
// per write, not as a whole.
func (c *Client) writeData(ctx context.Context, msg [][]byte) error {
	stuffer := smtpwire.NewDotWriter(c.w)
	for _, chunk := range msg {
		if err := c.arm(ctx); err != nil {
			return c.fail(err)
		}
		if _, err := stuffer.Write(chunk); err != nil {
			return c.fail(err)
		}
	}
	if err := c.arm(ctx); err != nil {
		return c.fail(err)
	}
	if err := stuffer.Close(); err != nil {
		return c.fail(err)
	}
	c.logLine("C: <message data>")
	return c.flush(ctx)
}

// reset sends RSET (RFC 5321 §4.1.1.5); a session that cannot reset is
// given up.
func (c *Client) reset(ctx context.Context) {
	if c.closed {
		return
	}
	reply, err := c.cmd(ctx, "RSET")
	if err == nil && reply.Code != 250 {
		c.log.Info("relay: RSET refused, closing the session", "reply", reply.String())
		c.Close()
	}
}

// Quit ends the session politely (RFC 5321 §4.1.1.10) and closes the
// connection.
func (c *Client) Quit() error {
	if c.closed {
		return c.Close()
	}
	_, err := c.cmd(context.Background(), "QUIT")
	if closeErr := c.Close(); err == nil {
		err = closeErr
	}
	return err
}

// Close closes the connection without QUIT.
func (c *Client) Close() error {
	c.closed = true
	return c.conn.Close()
}

// cmd sends one command line and reads its reply.
func (c *Client) cmd(ctx context.Context, line string) (*smtpreply.Reply, error) {
	if err := c.writeLine(ctx, line); err != nil {
		return nil, err
	}
	if err := c.flush(ctx); err != nil {
		return nil, err
	}
	return c.readReply(ctx)
}

func (c *Client) writeLine(ctx context.Context, line string) error {
	if c.closed {
		return ErrSessionClosed
	}
	if err := c.arm(ctx); err != nil {
		return c.fail(err)
	}
	c.logLine("C: " + line)
	c.w.WriteString(line)
	if _, err := c.w.WriteString("\r\n"); err != nil {
		return c.fail(err)
	}
	return nil
}

func (c *Client) flush(ctx context.Context) error {
	if err := c.arm(ctx); err != nil {
		return c.fail(err)
	}
	if err := c.w.Flush(); err != nil {
		return c.fail(err)
	}
	return nil
}

func (c *Client) readReply(ctx context.Context) (*smtpreply.Reply, error) {
	if c.closed {
		return nil, ErrSessionClosed
	}
	if err := c.arm(ctx); err != nil {
		return nil, c.fail(err)
	}
	reply, err := smtpreply.ReadReply(c.r, c.ext.EnhancedStatusCodes, func(line []byte) {
		c.logLine("S: " + string(line))
	})
	if err != nil {
		return nil, c.fail(err)
	}
	if reply.Code == 421 {
		// RFC 5321 §3.8: the server is closing the channel.
		c.Close()
	}
	return reply, nil
}

// fail gives up the session after an I/O error: the protocol state is
// unknown from then on.
func (c *Client) fail(err error) error {
	c.Close()
	return err
}

// arm sets the deadline for the next read or write: CommandTimeout from
// now, or the context's deadline if that is sooner.
func (c *Client) arm(ctx context.Context) error {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline := time.Now().Add(c.opts.CommandTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return c.raw.SetDeadline(deadline)
}

// watch interrupts blocked I/O when ctx is done, by moving the deadline to
// the past. The returned function stops watching.
func (c *Client) watch(ctx context.Context) (stop func()) {
	stopFunc := context.AfterFunc(ctx, func() {
		c.deadlineMu.Lock()
		defer c.deadlineMu.Unlock()
		c.raw.SetDeadline(time.Unix(1, 0))
	})
	return func() { stopFunc() }
}

func (c *Client) logLine(line string) {
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		c.log.Debug("relay: " + line)
	}
}
