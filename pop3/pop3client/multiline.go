package pop3client

import (
	"bytes"

	"github.com/mailcheck/mailcheck/bounds"
)

// The end of a multi-line response, RFC 1939 §3: "a final line is sent,
// consisting of a termination octet (decimal code 46, ".") and a CRLF
// pair"; a line of the response that begins with "." has another "."
// put before it (byte-stuffing).
const endLine = ".\r\n"

// ReadMulti reads the body of a multi-line response after its +OK, up to
// the "." line, with the byte-stuffing undone; lines keep their line ends.
// The body is bounded by limit (Policy.Literal for message data,
// Policy.Listing for a listing); a response that goes on past it is an
// *bounds.ExceededError and leaves the connection out of step.
func (c *Client) ReadMulti(limit int64) ([]byte, error) {
	body, _, err := c.readMulti(limit, false)
	return body, err
}

// ReadMultiRaw is ReadMulti that also returns the response as it came on
// the wire (the "." line included), for checks that judge the stuffing
// itself. The raw octets count against the limit too.
func (c *Client) ReadMultiRaw(limit int64) (body, raw []byte, err error) {
	return c.readMulti(limit, true)
}

func (c *Client) readMulti(limit int64, keepRaw bool) (body, raw []byte, err error) {
	var b, r blocks
	for {
		l, err := c.next()
		if err != nil {
			return b.bytes(), r.bytes(), err
		}
		if keepRaw {
			r.write(l)
		}
		if string(l) == endLine {
			return b.bytes(), r.bytes(), nil
		}
		b.write(bytes.TrimPrefix(l, []byte(".")))
		if b.n+r.n > limit {
			return nil, nil, &bounds.ExceededError{What: "multi-line reply", Limit: limit}
		}
	}
}

// A multi-line body grows by blocks as large as what came before, from
// minBlock (a listing of a few lines) to maxBlock.
const (
	minBlock = 4 << 10
	maxBlock = 1 << 20
)

// blocks gathers a body of unknown length in blocks, so that growing it
// never copies what came before: a body that reaches the bound holds the
// bound, not twice it.
type blocks struct {
	list [][]byte
	n    int64
}

func (b *blocks) write(p []byte) {
	last := len(b.list) - 1
	if last < 0 || cap(b.list[last])-len(b.list[last]) < len(p) {
		size := min(max(b.n, minBlock), maxBlock)
		b.list = append(b.list, make([]byte, 0, max(size, int64(len(p)))))
		last++
	}
	b.list[last] = append(b.list[last], p...)
	b.n += int64(len(p))
}

// bytes joins the blocks (never nil).
func (b *blocks) bytes() []byte {
	if len(b.list) == 1 {
		return b.list[0]
	}
	return bytes.Join(b.list, nil)
}

// Multi sends a command whose +OK is followed by a multi-line body (CAPA,
// LIST, UIDL, RETR, TOP) and reads both; -ERR is a *RefusedError.
func (c *Client) Multi(line string, limit int64) (Status, []byte, error) {
	st, err := c.OK(line)
	if err != nil {
		return st, nil, err
	}
	body, err := c.ReadMulti(limit)
	return st, body, err
}
