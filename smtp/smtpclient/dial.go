package smtpclient

import (
	"context"
	"crypto/tls"
	"net"
	"time"
)

// New returns a Client over conn, a connection the caller dialed: reads
// and writes bounded by Options.Timeout, reads by Options.Limits.
func New(conn net.Conn, o Options) *Client {
	p := o.Limits.WithDefaults()
	l := &netLink{timeout: o.Timeout, tls: tlsConfig(o)}
	if l.timeout <= 0 {
		l.timeout = DefaultTimeout
	}
	l.counter = &totalReader{left: p.Total, limit: p.Total}
	l.attach(conn, p.Line)
	return NewOver(l, o)
}

// Dial connects to addr ("host:port") within Options.Timeout and returns
// a Client that has read nothing yet (Greeting comes next). The connect
// is timed as PhaseConnect.
func Dial(ctx context.Context, addr string, o Options) (*Client, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	start := time.Now()
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := New(conn, o)
	c.timed(PhaseConnect, start)
	return c, nil
}

// DialTLS is Dial to a server that speaks TLS from the first octet
// (submissions, RFC 8314 §3.3): the handshake comes before the greeting.
func DialTLS(ctx context.Context, addr string, o Options) (*Client, error) {
	c, err := Dial(ctx, addr, o)
	if err != nil {
		return nil, err
	}
	if err := c.Handshake(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Handshake runs the TLS handshake at once, before the greeting, on a
// connection to a server that speaks TLS from the first octet (RFC 8314
// §3.3); DialTLS does it for a connection it dials. A failure leaves the
// client unusable.
func (c *Client) Handshake() error {
	if err := c.link.StartTLS(); err != nil {
		c.unusable = true
		return err
	}
	return nil
}

func tlsConfig(o Options) *tls.Config {
	cfg := &tls.Config{}
	if o.TLSConfig != nil {
		cfg = o.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = o.Host
	}
	return cfg
}
