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
	return c.settle(PhaseGreeting, start, r, err, 220)
}

// Hello says EHLO name (LHLO with Options.LMTP) and records the
// capabilities advertised (Caps). With Options.HELOFallback, a server
// that does not know EHLO (500 "command unrecognized" or 502 "command not
// implemented", RFC 5321 §4.2.2) gets HELO (RFC 5321 §2.2.1: clients "MUST
// support the original HELO mechanisms as a fallback"), and the session
// has no extensions; any other refusal (a 550 to the client's name, say)
// stands. A refusal is returned as the reply and as the error.
func (c *Client) Hello(name string) (*Caps, *smtpreply.Reply, error) {
	start := time.Now()
	r, err := c.Expect(HelloCommand(name, c.opts.LMTP), 250)
	if err == nil {
		c.caps = ParseCaps(r)
		c.timed(PhaseEHLO, start)
		return c.caps, r, nil
	}
	if r == nil || !c.opts.HELOFallback || c.opts.LMTP || r.Code != 500 && r.Code != 502 {
		return nil, r, err
	}
	if r, err = c.Expect("HELO "+name, 250); err != nil {
		return nil, r, err
	}
	c.caps = &Caps{Domain: r.Lines[0]}
	c.timed(PhaseEHLO, start)
	return c.caps, r, nil
}

// HelloCommand is the EHLO command line for the client's name (RFC 5321
// §4.1.1.1), or with lmtp the LHLO line (RFC 2033 §4.1).
func HelloCommand(name string, lmtp bool) string {
	if lmtp {
		return "LHLO " + name
	}
	return "EHLO " + name
}
