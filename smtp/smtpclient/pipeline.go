package smtpclient

import (
	"errors"
	"strings"

	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// ErrNoPipelining is returned by Pipeline when the server did not
// advertise PIPELINING: without it a client must wait for each reply (RFC
// 2920 §3.1 allows the grouping only "if the server supports it").
var ErrNoPipelining = errors.New("the server does not offer PIPELINING (RFC 2920)")

// Pipeline sends the command lines as one group in one write (RFC 2920
// §3.1: MAIL, RCPT and such may be sent without waiting; a group ends
// with a command that changes the session's state, DATA for instance) and
// reads one reply per line, in order, whatever their codes. It stops
// after a 421 (RFC 5321 §3.8: the server closes the channel), returning
// fewer replies than lines, and on a failed read returns the replies read
// so far with the error.
func (c *Client) Pipeline(lines ...string) ([]*smtpreply.Reply, error) {
	if !c.caps.Pipelining() {
		return nil, ErrNoPipelining
	}
	if err := c.Write([]byte(strings.Join(lines, "\r\n") + "\r\n")); err != nil {
		return nil, err
	}
	replies := make([]*smtpreply.Reply, 0, len(lines))
	for range lines {
		r, err := c.ReadReply()
		if err != nil {
			return replies, err
		}
		replies = append(replies, r)
		if r.Code == 421 {
			break
		}
	}
	return replies, nil
}

// Envelope sends MAIL from (with mailParams) and one RCPT per recipient
// in to: with pipelined, as one group (Pipeline); else each after the
// reply to the one before, stopping after a refused MAIL (RFC 5321
// §4.1.1.2: no transaction, so no RCPT) or a 421. It returns the replies
// read, MAIL's first, whatever their codes; a failed read or write comes
// with the replies read before it.
func (c *Client) Envelope(pipelined bool, from string, mailParams, to []string) ([]*smtpreply.Reply, error) {
	lines := []string{MailCommand(from, mailParams...)}
	for _, rcpt := range to {
		lines = append(lines, RcptCommand(rcpt))
	}
	if pipelined {
		return c.Pipeline(lines...)
	}
	var replies []*smtpreply.Reply
	for i, line := range lines {
		r, err := c.Cmd(line)
		if err != nil {
			return replies, err
		}
		replies = append(replies, r)
		if i == 0 && r.Code != 250 || !c.Usable() {
			break
		}
	}
	return replies, nil
}
