package smtpclient

import (
	"bufio"
	"net"
	"time"
)

// Detach hands the connection over to the caller once the session is set
// up (the load generator runs its transactions on it directly): the
// connection (TLS included) with its deadline cleared, and the reader that
// holds what the server sent and nothing read yet. The Client must not be
// used afterwards. It returns nil, nil for a Link of the caller's.
func (c *Client) Detach() (net.Conn, *bufio.Reader) {
	l, ok := c.link.(*netLink)
	if !ok {
		return nil, nil
	}
	l.conn.SetDeadline(time.Time{})
	c.unusable = true
	return l.conn, l.r
}
