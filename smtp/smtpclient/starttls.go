package smtpclient

import (
	"time"

	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// StartTLS says STARTTLS, wants 220 and runs the TLS handshake (RFC 3207
// §4). A refusal (454: "TLS not available due to temporary reason") is
// returned as the reply and as the error, the session still in plain
// text; a failed handshake leaves the client unusable. Afterwards Caps is
// nil: the caller says Hello again (RFC 3207 §4.2: "The client MUST
// discard any knowledge obtained from the server ... The client SHOULD
// send an EHLO command as the first command after a successful TLS
// negotiation").
func (c *Client) StartTLS() (*smtpreply.Reply, error) {
	start := time.Now()
	r, err := c.Expect("STARTTLS", 220)
	if err != nil {
		return r, err
	}
	c.caps = nil
	if err := c.link.StartTLS(); err != nil {
		c.unusable = true
		return r, err
	}
	c.timed(PhaseSTARTTLS, start)
	return r, nil
}
