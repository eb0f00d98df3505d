package smtpclient

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// ErrAuthChallenge is wrapped when the server's 334 challenge is not
// base64, which RFC 4954 §4 makes every challenge.
var ErrAuthChallenge = errors.New("malformed AUTH challenge")

// Auth authenticates with the SASL client a (RFC 4954 §4): AUTH with the
// mechanism and its initial response ("=" for an empty one), then one
// base64 response to each 334 challenge, until the server's 235. Any other
// final reply is returned as the reply and as the error. A SASL client
// error cancels the exchange with "*".
func (c *Client) Auth(a sasl.Client) (*smtpreply.Reply, error) {
	start := time.Now()
	mech, ir, err := a.Start()
	if err != nil {
		return nil, err
	}
	line := "AUTH " + mech
	if ir != nil {
		line += " " + encodeResponse(ir)
	}
	r, err := c.Cmd(line)
	for err == nil && r.Code == 334 {
		r, err = c.answer(a, r)
	}
	return c.settle(PhaseAuth, start, r, err, 235)
}

// answer sends the response to challenge r and reads the next reply.
func (c *Client) answer(a sasl.Client, r *smtpreply.Reply) (*smtpreply.Reply, error) {
	challenge, err := base64.StdEncoding.DecodeString(strings.TrimSpace(r.Text()))
	if err != nil {
		c.Cmd("*") // RFC 4954 §4: the client cancels with "*"
		return nil, fmt.Errorf("%w: %q", ErrAuthChallenge, r.Text())
	}
	resp, err := a.Next(challenge)
	if err != nil {
		c.Cmd("*")
		return nil, err
	}
	return c.Cmd(base64.StdEncoding.EncodeToString(resp))
}

// encodeResponse is an initial response on the AUTH line: base64, or "="
// when empty (RFC 4954 §4: "If the client is transmitting an initial
// response of zero length, it MUST instead transmit the response as a
// single equals sign").
func encodeResponse(ir []byte) string {
	if len(ir) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(ir)
}

// loginClient is the LOGIN mechanism as servers expect it
// (draft-murchison-sasl-login): no initial response, the user name in
// answer to the first challenge, the password to the second, whatever
// their wording ("Username:", "User Name"). go-sasl's sends the user name
// as an initial response and wants the prompt "Password:" exactly, which
// not every server of the AUTH= era matches.
type loginClient struct {
	user, pass string
	step       int
}

// LoginClient returns a SASL client of the LOGIN mechanism.
func LoginClient(user, pass string) sasl.Client { return &loginClient{user: user, pass: pass} }

func (l *loginClient) Start() (string, []byte, error) { return "LOGIN", nil, nil }

func (l *loginClient) Next([]byte) ([]byte, error) {
	l.step++
	switch l.step {
	case 1:
		return []byte(l.user), nil
	case 2:
		return []byte(l.pass), nil
	}
	return nil, sasl.ErrUnexpectedServerChallenge
}
