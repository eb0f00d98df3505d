package smtpclient

import (
	"time"

	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// Greeting reads the server's greeting and wants 220 (RFC 5321 §3.1: a
// 554 instead means no service here); any other reply is returned as the
// reply and as the error.
func (c *Client) Greeting() (*smtpreply.Reply, error) {
	start := time.Now()
	r, err := c.ReadReply()
	if err != nil {
		return nil, err
	}
	if r.Code != 220 {
		return r, r
	}
	c.timed(PhaseGreeting, start)
	return r, nil
}

// Hello says EHLO name (LHLO with Options.LMTP) and records the
// capabilities advertised (Caps). With Options.HELOFallback, a 5yz reply
// to EHLO gets HELO (RFC 5321 §3.2: "If the EHLO command is not
// acceptable to the SMTP server, 501, 500, 502, or 550 failure replies
// MUST be returned as appropriate", and the client then "SHOULD fall back
// to HELO"), and the session has no extensions. A refusal is returned as
// the reply and as the error.
func (c *Client) Hello(name string) (*Caps, *smtpreply.Reply, error) {
	verb := "EHLO "
	if c.opts.LMTP {
		verb = "LHLO "
	}
	start := time.Now()
	r, err := c.Expect(verb+name, 250)
	if err == nil {
		c.caps = ParseCaps(r)
		c.timed(PhaseEHLO, start)
		return c.caps, r, nil
	}
	if r == nil || !c.opts.HELOFallback || c.opts.LMTP || !r.Permanent() {
		return nil, r, err
	}
	if r, err = c.Expect("HELO "+name, 250); err != nil {
		return nil, r, err
	}
	c.caps = &Caps{Domain: r.Lines[0]}
	c.timed(PhaseEHLO, start)
	return c.caps, r, nil
}
