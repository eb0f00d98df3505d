package smtpclient

import (
	"bufio"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mailcheck/mailcheck/bounds"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// ReadReply reads one reply (RFC 5321 §4.2), multi-line or not, within
// the policy's ReplyLines and ReplyOctets, with an enhanced status code
// (RFC 3463) split off wherever a line's text starts with one. A bound
// passed is an error wrapping both smtpreply.ErrMalformedReply and
// bounds.ErrExceeded. A failed read or a 421 makes the client unusable.
//
// With Options.ReadReply set, that reads the replies instead.
func (c *Client) ReadReply() (*smtpreply.Reply, error) {
	reply, err := c.readReply()
	if err != nil {
		c.unusable = true
		return nil, err
	}
	if reply.Code == 421 {
		// RFC 5321 §3.8, §4.2.3: "421 <domain> Service not available,
		// closing transmission channel".
		c.unusable = true
	}
	return reply, nil
}

// readReply reads a reply with Options.ReadReply or the core's reader.
func (c *Client) readReply() (reply *smtpreply.Reply, err error) {
	if c.opts.ReadReply != nil {
		return c.opts.ReadReply()
	}
	err = c.link.ReadWith(func(r *bufio.Reader) error {
		reply, err = smtpreply.ReadReplyLimited(r, true, c.lim, c.onLine)
		return exceeded(err)
	})
	return reply, err
}

func (c *Client) onLine(line []byte) { c.record(Received, line) }

// exceeded adds bounds.ErrExceeded to a reply read past a bound.
func exceeded(err error) error {
	var le *smtpreply.LimitError
	if errors.As(err, &le) {
		return fmt.Errorf("%w (%w)", err, &bounds.ExceededError{What: le.What, Limit: int64(le.Limit)})
	}
	return err
}

// Write sends b exactly as given (raw mode: a check that needs bare LFs,
// 8-bit octets or a pipelined burst writes them itself); a failed write
// makes the client unusable.
func (c *Client) Write(b []byte) error {
	c.record(Sent, b)
	return c.write(b)
}

// write sends b without recording it.
func (c *Client) write(b []byte) error {
	if err := c.link.Write(b); err != nil {
		c.unusable = true
		return err
	}
	return nil
}

// Raw writes b exactly as given and reads the reply.
func (c *Client) Raw(b []byte) (*smtpreply.Reply, error) {
	if err := c.Write(b); err != nil {
		return nil, err
	}
	return c.ReadReply()
}

// Cmd sends one command line (CRLF added) and reads its reply, whatever
// its code; the error is a failed write or read.
func (c *Client) Cmd(line string) (*smtpreply.Reply, error) {
	return c.Raw([]byte(line + "\r\n"))
}

// Expect is Cmd wanting one of codes: any other reply is returned both as
// the reply and as the error (a *smtpreply.Reply).
func (c *Client) Expect(line string, codes ...int) (*smtpreply.Reply, error) {
	r, err := c.Cmd(line)
	if err != nil {
		return nil, err
	}
	return r, wanted(r, codes)
}

// wanted is nil when r's code is one of codes, else r.
func wanted(r *smtpreply.Reply, codes []int) error {
	if slices.Contains(codes, r.Code) {
		return nil
	}
	return r
}

// timedExpect is Expect timing phase p.
func (c *Client) timedExpect(p Phase, line string, codes ...int) (*smtpreply.Reply, error) {
	start := time.Now()
	r, err := c.Cmd(line)
	return c.settle(p, start, r, err, codes...)
}

// settle ends a step that read r (or failed with err): a reply with one
// of codes is the step's success, timed as phase p from start; any other
// is returned as the reply and as the error.
func (c *Client) settle(p Phase, start time.Time, r *smtpreply.Reply, err error, codes ...int) (*smtpreply.Reply, error) {
	if err != nil {
		return r, err
	}
	if err := wanted(r, codes); err != nil {
		return r, err
	}
	c.timed(p, start)
	return r, nil
}
