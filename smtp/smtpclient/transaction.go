package smtpclient

import (
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// MailCommand is the MAIL command line for reverse-path from (without its
// angle brackets; "" is the null path) and the parameters (RFC 5321
// §4.1.1.2: "MAIL FROM:<reverse-path> [SP <mail-parameters>]").
func MailCommand(from string, params ...string) string {
	return withParams("MAIL FROM:<"+from+">", params)
}

// RcptCommand is the RCPT command line for forward-path to (RFC 5321
// §4.1.1.3).
func RcptCommand(to string, params ...string) string {
	return withParams("RCPT TO:<"+to+">", params)
}

func withParams(cmd string, params []string) string {
	if len(params) == 0 {
		return cmd
	}
	return cmd + " " + strings.Join(params, " ")
}

// Mail starts a transaction (RFC 5321 §4.1.1.2), wanting 250; params are
// such as "SIZE=1234" (RFC 1870) or "BODY=8BITMIME" (RFC 6152). A refusal
// is returned as the reply and as the error.
func (c *Client) Mail(from string, params ...string) (*smtpreply.Reply, error) {
	return c.timedExpect(PhaseMail, MailCommand(from, params...), 250)
}

// Rcpt adds a recipient (RFC 5321 §4.1.1.3), wanting 250 or 251.
func (c *Client) Rcpt(to string, params ...string) (*smtpreply.Reply, error) {
	return c.timedExpect(PhaseRcpt, RcptCommand(to, params...), 250, 251)
}

// Reset abandons the transaction with RSET (RFC 5321 §4.1.1.5), wanting
// 250.
func (c *Client) Reset() (*smtpreply.Reply, error) { return c.Expect("RSET", 250) }

// Noop says NOOP (RFC 5321 §4.1.1.9), wanting 250.
func (c *Client) Noop() (*smtpreply.Reply, error) { return c.Expect("NOOP", 250) }

// Quit says QUIT and reads the reply (RFC 5321 §4.1.1.10: "the receiver
// MUST send a "221 OK" reply, and then close the transmission channel"),
// and closes the connection whatever came back.
func (c *Client) Quit() (*smtpreply.Reply, error) {
	start := time.Now()
	r, err := c.Expect("QUIT", 221)
	if err == nil {
		c.timed(PhaseQuit, start)
	}
	if closeErr := c.Close(); err == nil {
		err = closeErr
	}
	return r, err
}
