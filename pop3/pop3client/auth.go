package pop3client

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"
)

// Login authenticates with USER and PASS (RFC 1939 §7). A refusal is a
// *RefusedError (RefusedError.InUse tells a locked maildrop).
func (c *Client) Login(user, password string) error {
	if _, err := c.OK("USER " + user); err != nil {
		return err
	}
	_, err := c.OK("PASS " + password)
	return err
}

// Auth authenticates with a SASL mechanism (RFC 5034 §4): "AUTH mech"
// with the initial response when the mechanism has one ("=" when it is
// empty), then a base64 line for each "+ challenge" until the status
// line. A mechanism that fails mid-exchange cancels it with "*".
func (c *Client) Auth(mech sasl.Client) error {
	name, ir, err := mech.Start()
	if err != nil {
		return err
	}
	line := "AUTH " + name
	if ir != nil {
		line += " " + encode(ir)
	}
	if err := c.Send(line); err != nil {
		return err
	}
	for {
		l, err := c.ReadLine()
		if err != nil {
			return err
		}
		text := strings.TrimRight(string(l), "\r\n")
		if !strings.HasPrefix(text, "+ ") && text != "+" {
			return c.authDone(name, text)
		}
		if err := c.answer(mech, strings.TrimPrefix(strings.TrimPrefix(text, "+"), " ")); err != nil {
			return err
		}
	}
}

// answer sends the mechanism's answer to a challenge, or "*" to cancel
// when the challenge is no base64 or the mechanism has no answer.
func (c *Client) answer(mech sasl.Client, challenge string) error {
	ch, err := base64.StdEncoding.DecodeString(challenge)
	var resp []byte
	if err == nil {
		resp, err = mech.Next(ch)
	}
	if err != nil {
		c.Send("*")
		if _, rerr := c.ReadStatus(); rerr != nil {
			return errors.Join(err, rerr)
		}
		return fmt.Errorf("AUTH cancelled: %w", err)
	}
	return c.Send(base64.StdEncoding.EncodeToString(resp))
}

// authDone reads the status line that ends an AUTH exchange.
func (c *Client) authDone(mech, line string) error {
	st, err := ParseStatus(line)
	if err != nil {
		return err
	}
	if !st.OK {
		return &RefusedError{Command: "AUTH " + mech, Status: st}
	}
	return nil
}

// encode is an initial response: base64, "=" for an empty one (RFC 5034
// §4).
func encode(ir []byte) string {
	if len(ir) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(ir)
}
