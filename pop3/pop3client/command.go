package pop3client

import (
	"strings"
	"time"
)

// Greeting reads the server's greeting (RFC 1939 §4): a status line,
// -ERR for a server that does not offer service now.
func (c *Client) Greeting() (Status, error) {
	return c.ReadStatus()
}

// ReadStatus reads one status line: an error for a failed read, or a
// *MalformedError (with the Status holding the line) for a line that is no
// status line. -ERR is no error here: Status.OK says.
func (c *Client) ReadStatus() (Status, error) {
	l, err := c.ReadLine()
	c.timed()
	if err != nil {
		return Status{}, err
	}
	return ParseStatus(strings.TrimRight(string(l), "\r\n"))
}

// timed tells OnReply how long the status line took.
func (c *Client) timed() {
	if c.OnReply != nil && !c.asked.IsZero() {
		c.OnReply(c.phase, time.Since(c.asked))
	}
	c.asked = time.Time{}
}

// Cmd sends a command and reads its status line (see ReadStatus).
func (c *Client) Cmd(line string) (Status, error) {
	if err := c.Send(line); err != nil {
		return Status{}, err
	}
	return c.ReadStatus()
}

// OK is Cmd where -ERR is an error too: a *RefusedError naming the verb.
func (c *Client) OK(line string) (Status, error) {
	st, err := c.Cmd(line)
	if err == nil && !st.OK {
		verb, _, _ := strings.Cut(line, " ")
		err = &RefusedError{Command: strings.ToUpper(verb), Status: st}
	}
	return st, err
}
