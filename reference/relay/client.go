// Package relay is the SMTP client that the reference server's queue runner
// uses to hand mail to the next server: it finds the destination hosts
// (resolve.go), opens one session per destination and runs any number of
// mail transactions over it (client.go).
package relay

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/mailcheck/mailcheck/smtp/smtpclient"
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

// Client is one SMTP session with one server, over the SMTP client core.
// It is not safe for concurrent use.
type Client struct {
	opts Options
	log  *slog.Logger
	// host is the "host:port" connected to.
	host string
	smtp *smtpclient.Client
	ext  Extensions
}

// Dial opens a session with the first host of dest that works, in order
// (RFC 5321 §5.1: try the MX hosts in preference order): it connects,
// reads the 220 greeting, sends EHLO (HELO if the server does not know
// EHLO), and upgrades to TLS with STARTTLS when the server offers it. If
// the TLS handshake fails, the host is tried once more in cleartext.
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
	c := &Client{opts: opts, log: opts.Logger.With("host", host), host: host}
	c.smtp = smtpclient.New(conn, smtpclient.Options{
		Timeout:      opts.CommandTimeout,
		TLSConfig:    c.tlsConfig(),
		HELOFallback: true,
		Transcript:   c.logLine,
	})
	if err := c.open(ctx, tryTLS); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", host, err)
	}
	return c, nil
}

// open runs the start of the session: greeting, EHLO, STARTTLS.
func (c *Client) open(ctx context.Context, tryTLS bool) error {
	defer c.smtp.Watch(ctx)()
	if greeting, err := c.smtp.Greeting(); err != nil {
		if greeting != nil {
			// RFC 5321 §3.1: after a 554 greeting the client should QUIT.
			c.smtp.Quit()
		}
		return err
	}
	if err := c.hello(); err != nil {
		return err
	}
	if !tryTLS || !c.ext.StartTLS {
		return nil
	}
	reply, err := c.smtp.StartTLS()
	switch {
	case reply != nil && reply.Code != 220:
		// RFC 3207 §4: after a 454 the client decides whether to go on;
		// opportunistic TLS goes on in cleartext.
		c.log.Info("relay: STARTTLS refused, continuing in cleartext", "reply", reply.String())
		return nil
	case reply != nil && err != nil:
		return fmt.Errorf("%w: %v", errTLSHandshake, err)
	case err != nil:
		return err
	}
	// RFC 3207 §4.2: the client must discard what it learned before TLS
	// and should send EHLO again.
	c.ext = Extensions{}
	return c.hello()
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

// hello sends EHLO (HELO to a server that does not know it) and records
// the extensions this client uses.
func (c *Client) hello() error {
	caps, _, err := c.smtp.Hello(c.opts.Hostname)
	if err != nil {
		return err
	}
	size, sizeAdvertised := caps.Size()
	c.ext = Extensions{
		Pipelining:          caps.Pipelining(),
		EightBitMIME:        caps.EightBitMIME(),
		StartTLS:            caps.StartTLS(),
		EnhancedStatusCodes: caps.EnhancedStatusCodes(),
		SizeAdvertised:      sizeAdvertised,
		Size:                size,
	}
	return nil
}

// Host returns the "host:port" this session is connected to.
func (c *Client) Host() string { return c.host }

// Extensions returns what the server advertised (after STARTTLS, what it
// advertised inside TLS).
func (c *Client) Extensions() Extensions { return c.ext }

// TLS reports whether the session runs over STARTTLS.
func (c *Client) TLS() bool { return c.smtp.TLS() }

// Usable reports whether the session can carry another transaction: no
// network error, timeout, 421 reply (RFC 5321 §3.8) or Close so far.
func (c *Client) Usable() bool { return c.smtp.Usable() }

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
	if !c.Usable() {
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
	defer c.smtp.Watch(ctx)()
	defer c.closeIfUnusable()

	var params []string
	if c.ext.SizeAdvertised {
		params = append(params, "SIZE="+strconv.FormatInt(size, 10))
	}
	if body8bit {
		params = append(params, "BODY=8BITMIME")
	}
	perRcpt, accepted, err := c.envelope(from, params, rcpts)
	if err != nil || accepted == 0 {
		// Close the transaction so the next one starts clean; the reset is
		// harmless when MAIL itself was refused.
		c.reset()
		return perRcpt, err
	}
	if _, err := c.smtp.Data(); err != nil {
		c.reset()
		return perRcpt, err
	}
	// RFC 5321 §4.1.1.4: the reply to the final dot ends the transaction,
	// successful or not, so no RSET is needed after it.
	_, err = c.smtp.Message(msg...)
	return perRcpt, err
}

// envelope sends MAIL and the RCPTs, as one group when the server allows
// PIPELINING (RFC 2920 §3.1: MAIL and RCPT may be sent without waiting,
// the replies come back in order).
func (c *Client) envelope(from string, params, rcpts []string) (perRcpt []error, accepted int, err error) {
	replies, err := c.smtp.Envelope(c.ext.Pipelining, from, params, rcpts)
	if len(replies) > 0 && replies[0].Code != 250 {
		// RFC 5321 §4.1.1.2: MAIL succeeds with 250 only.
		return nil, 0, replies[0]
	}
	if len(replies) == 0 {
		return nil, 0, err
	}
	perRcpt = make([]error, len(rcpts))
	for i, reply := range replies[1:] {
		if reply.Code == 250 || reply.Code == 251 {
			// RFC 5321 §4.1.1.3: 250 or 251 accept a recipient.
			accepted++
		} else {
			perRcpt[i] = reply
		}
	}
	if err == nil && len(replies) < 1+len(rcpts) {
		err = ErrSessionClosed
	}
	return perRcpt, accepted, err
}

// reset sends RSET (RFC 5321 §4.1.1.5); a session that cannot reset is
// given up.
func (c *Client) reset() {
	if !c.Usable() {
		return
	}
	reply, err := c.smtp.Reset()
	if err != nil && reply != nil {
		c.log.Info("relay: RSET refused, closing the session", "reply", reply.String())
		c.Close()
	}
}

// closeIfUnusable closes a session that can carry nothing more (after a
// network error, a timeout, a 421).
func (c *Client) closeIfUnusable() {
	if !c.Usable() {
		c.Close()
	}
}

// Quit ends the session politely (RFC 5321 §4.1.1.10) and closes the
// connection.
func (c *Client) Quit() error {
	if !c.Usable() {
		return c.Close()
	}
	_, err := c.smtp.Quit()
	var reply *smtpreply.Reply
	if errors.As(err, &reply) {
		return nil // any reply to QUIT ends the session
	}
	return err
}

// Close closes the connection without QUIT.
func (c *Client) Close() error { return c.smtp.Close() }

// logLine logs the session at Debug level, message data as one line.
func (c *Client) logLine(e smtpclient.Event, b []byte) {
	if !c.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	switch e {
	case smtpclient.Received:
		c.log.Debug("relay: S: " + string(b))
	case smtpclient.Sent:
		for _, line := range bytes.SplitAfter(b, []byte("\n")) {
			if len(line) > 0 {
				c.log.Debug("relay: C: " + string(bytes.TrimRight(line, "\r\n")))
			}
		}
	case smtpclient.SentDataEnd:
		c.log.Debug("relay: C: <message data>")
	}
}
