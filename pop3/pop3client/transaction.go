package pop3client

import (
	"fmt"
	"strconv"
	"strings"
)

// Listing is one line of a scan or unique-id listing.
type Listing struct {
	// Num is the message number in this session (RFC 1939 §5).
	Num int
	// Size is the size in octets (LIST), UID the unique-id (UIDL).
	Size int64
	UID  string
}

// Stat returns the maildrop's message count and size (STAT, RFC 1939 §5:
// "+OK nn mm", and no requirement on what follows the size).
func (c *Client) Stat() (count int, size int64, err error) {
	st, err := c.OK("STAT")
	if err != nil {
		return 0, 0, err
	}
	if _, err := fmt.Sscanf(st.Text, "%d %d", &count, &size); err != nil {
		return 0, 0, fmt.Errorf("%w: STAT answered %q, not \"+OK nn mm\" (RFC 1939 §5)", ErrMalformed, st.Line)
	}
	return count, size, nil
}

// List returns the scan listing of every message (LIST, RFC 1939 §5:
// "msg size" a line; the RFC "makes no requirement on what follows the
// message size", so anything after it is ignored).
func (c *Client) List() ([]Listing, error) {
	_, body, err := c.Multi("LIST", c.policy.Listing)
	if err != nil {
		return nil, err
	}
	return parseListing(body, "LIST", func(l *Listing, v string) error {
		size, _, _ := strings.Cut(v, " ")
		n, err := strconv.ParseInt(size, 10, 64)
		l.Size = n
		return err
	})
}

// UIDL returns the unique-id listing of every message (UIDL, RFC 1939 §7:
// "msg unique-id" a line; a unique-id is 1 to 70 octets of 0x21-0x7E, so
// it ends at a space).
func (c *Client) UIDL() ([]Listing, error) {
	_, body, err := c.Multi("UIDL", c.policy.Listing)
	if err != nil {
		return nil, err
	}
	return parseListing(body, "UIDL", func(l *Listing, v string) error {
		l.UID, _, _ = strings.Cut(v, " ")
		if l.UID == "" {
			return ErrMalformed
		}
		return nil
	})
}

// parseListing reads "msg value" lines; a line that is not is an error
// naming the command.
func parseListing(body []byte, cmd string, value func(*Listing, string) error) ([]Listing, error) {
	var out []Listing
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		num, v, ok := strings.Cut(line, " ")
		var l Listing
		var err error
		if l.Num, err = strconv.Atoi(num); err != nil || !ok || value(&l, v) != nil {
			return out, fmt.Errorf("%w: %s: listing line %q is not \"msg value\" (RFC 1939 §5, §7)", ErrMalformed, cmd, line)
		}
		out = append(out, l)
	}
	return out, nil
}

// Retr returns message n, byte-stuffing undone (RETR, RFC 1939 §5),
// bounded by Policy.Literal.
func (c *Client) Retr(n int) ([]byte, error) {
	_, body, err := c.Multi("RETR "+strconv.Itoa(n), c.policy.Literal)
	return body, err
}

// Top returns the header of message n and its first lines of body (TOP,
// RFC 1939 §7, optional), bounded by Policy.Literal.
func (c *Client) Top(n, lines int) ([]byte, error) {
	_, body, err := c.Multi("TOP "+strconv.Itoa(n)+" "+strconv.Itoa(lines), c.policy.Literal)
	return body, err
}

// Dele marks message n deleted (RFC 1939 §5); QUIT removes it.
func (c *Client) Dele(n int) error {
	_, err := c.OK("DELE " + strconv.Itoa(n))
	return err
}

// Rset unmarks every message marked deleted (RFC 1939 §5).
func (c *Client) Rset() error {
	_, err := c.OK("RSET")
	return err
}

// Noop does nothing but get +OK (RFC 1939 §5).
func (c *Client) Noop() error {
	_, err := c.OK("NOOP")
	return err
}

// Quit ends the session: from the TRANSACTION state the server removes
// the messages marked deleted, and +OK says it did (RFC 1939 §6).
func (c *Client) Quit() error {
	_, err := c.OK("QUIT")
	return err
}
