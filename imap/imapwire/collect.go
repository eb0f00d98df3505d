package imapwire

import (
	"errors"
	"fmt"
)

// MaxUntagged bounds the untagged responses Collect gathers for one
// command: far more than a conforming server sends to a checking client's
// commands (its mailboxes hold a few messages), and a server that floods
// cannot make the client hold millions of them (each costs more memory
// than its octets on the wire).
const MaxUntagged = 10000

// ErrUnexpectedContinuation is a continuation request ("+", RFC 9051
// §7.6) to a command that sent no literal and awaits none.
var ErrUnexpectedContinuation = errors.New("unexpected continuation request")

// Collected is what the server answered to one command.
type Collected struct {
	// Untagged are the untagged responses before the end, in order.
	Untagged []*Response
	// Done is the tagged response that ended the command; nil when a
	// continuation request ended the collection (Continuation) or the
	// read failed.
	Done *Response
	// Continuation is true when a continuation request ended it.
	Continuation bool
}

// Collect reads the responses to the command tagged tag, up to its tagged
// response (RFC 9051 §2.2.2). With stopAtContinuation a continuation
// request ends the collection (the caller sends the literal it announced);
// without, it is ErrUnexpectedContinuation. seen, when not nil, is called
// with every response read (a grammar check, a transcript). More than
// MaxUntagged untagged responses is an error; what was collected is
// returned with every error.
func (r *Reader) Collect(tag string, stopAtContinuation bool, seen func(*Response)) (*Collected, error) {
	c := &Collected{}
	for {
		resp, err := r.Read()
		if err != nil {
			return c, err
		}
		if seen != nil {
			seen(resp)
		}
		switch resp.Tag {
		case tag:
			c.Done = resp
			return c, nil
		case "+":
			if stopAtContinuation {
				c.Continuation = true
				return c, nil
			}
			return c, fmt.Errorf("%w %q", ErrUnexpectedContinuation, resp)
		}
		if len(c.Untagged) >= MaxUntagged {
			return c, fmt.Errorf("more than %d untagged responses to one command", MaxUntagged)
		}
		c.Untagged = append(c.Untagged, resp)
	}
}
