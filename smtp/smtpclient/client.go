// Package smtpclient is mailcheck's one SMTP client core (RFC 5321): it
// connects (plain, STARTTLS per RFC 3207, implicit TLS per RFC 8314),
// reads replies within a bounds.Policy, parses the EHLO capabilities
// (keywords case-insensitive, RFC 5321 §2.4), authenticates with SASL
// (RFC 4954), runs transactions (MAIL, RCPT, DATA with dot stuffing, RSET,
// NOOP, QUIT), pipelines command groups when the server offers PIPELINING
// (RFC 2920), and writes exact octets in raw mode. The send agent, the
// seeder, the relay, the conformance suite and the load generator all talk
// SMTP through it.
//
// A Client talks over a Link: one it makes over a net.Conn (New, Dial,
// DialTLS), or the caller's own instrumented connection (NewOver).
package smtpclient

import (
	"time"

	"github.com/mailcheck/mailcheck/bounds"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// Client is one SMTP session. It is not safe for concurrent use.
type Client struct {
	link Link
	opts Options
	lim  smtpreply.Limits
	// caps is what the last EHLO advertised; nil before it and after
	// STARTTLS (RFC 3207 §4.2: the client discards what it knew).
	caps *Caps
	// unusable is set once the session can carry no more commands: a
	// read or write failed, or the server said 421 (RFC 5321 §3.8).
	unusable bool
}

// NewOver returns a Client talking over link, the caller's connection.
func NewOver(link Link, o Options) *Client {
	p := o.Limits.WithDefaults()
	return &Client{link: link, opts: o, lim: smtpreply.Limits{Lines: p.ReplyLines, Octets: p.ReplyOctets}}
}

// Caps returns what the server advertised in its last EHLO reply (inside
// TLS, after STARTTLS), or nil before EHLO.
func (c *Client) Caps() *Caps { return c.caps }

// TLS reports whether the session runs over TLS.
func (c *Client) TLS() bool { return c.link.TLS() }

// Usable reports whether the session can carry another command: no read
// or write failed and the server did not say 421 (RFC 5321 §3.8: it
// closes the channel after).
func (c *Client) Usable() bool { return !c.unusable }

// Close closes the connection without QUIT.
func (c *Client) Close() error {
	c.unusable = true
	return c.link.Close()
}

// timed reports to the Timing hook that phase p, started at start,
// succeeded.
func (c *Client) timed(p Phase, start time.Time) {
	if c.opts.Timing != nil {
		c.opts.Timing(p, time.Since(start))
	}
}

// record reports b to the Transcript hook.
func (c *Client) record(e Event, b []byte) {
	if c.opts.Transcript != nil {
		c.opts.Transcript(e, b)
	}
}

// limits is the client's read policy with the defaults filled in.
func (c *Client) limits() bounds.Policy { return c.opts.Limits.WithDefaults() }
