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
	held := int64(0)
	for {
		l, err := c.next()
		if err != nil {
			return body, raw, err
		}
		if keepRaw {
			raw = append(raw, l...)
			held += int64(len(l))
		}
		if string(l) == endLine {
			if body == nil {
				body = []byte{}
			}
			return body, raw, nil
		}
		body = append(body, bytes.TrimPrefix(l, []byte("."))...)
		if held+int64(len(body)) > limit {
			return nil, nil, &bounds.ExceededError{What: "multi-line reply", Limit: limit}
		}
	}
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
