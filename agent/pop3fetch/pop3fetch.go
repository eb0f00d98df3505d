// Package pop3fetch reads a maildrop over POP3 (RFC 1939): greeting, CAPA
// (RFC 2449), STLS (RFC 2595), USER/PASS, LIST, UIDL, TOP, RETR, DELE and
// QUIT, with every line in the transcript (the password masked) and every
// failure tagged with its stage. Messages come back exactly as the server
// sent them, byte stuffing undone.
package pop3fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/agent/session"
	"github.com/mailcheck/mailcheck/agent/transcript"
)

// MaxMessageBytes bounds one multi-line reply (a message), so that a
// server that never ends one cannot exhaust memory.
const MaxMessageBytes = 1 << 30

// ErrInUse is wrapped by Dial's error when the server says another
// session holds the maildrop (RFC 2449 §8.1.1, [IN-USE]): worth trying
// again later.
var ErrInUse = errors.New("the maildrop is in use by another session")

// Client is a POP3 session in the TRANSACTION state.
type Client struct {
	c *session.Conn
	// caps are the CAPA lines, nil when the server does not know CAPA.
	caps    []string
	deleted int
}

// Entry is a message of the maildrop.
type Entry struct {
	// Num is the message number in this session (RFC 1939 §5).
	Num int
	// Size is the size LIST reports, in octets.
	Size int64
	// UIDL is the unique-id listing (RFC 1939 §7), "" when the server
	// has none.
	UIDL string
}

// Dial connects, upgrades with STLS as the policy says and logs in with
// USER and PASS.
func Dial(ctx context.Context, o session.Options) (*Client, error) {
	c, err := session.Dial(ctx, o)
	if err != nil {
		return nil, err
	}
	cl := &Client{c: c}
	if err := cl.login(); err != nil {
		c.Close()
		return nil, err
	}
	return cl, nil
}

func (cl *Client) login() error {
	greeting, err := cl.c.ReadLine()
	if err != nil {
		return session.Fail(session.Greeting, err)
	}
	if !bytes.HasPrefix(greeting, []byte("+OK")) {
		return session.Failf(session.Greeting, "not a POP3 greeting: %q", strings.TrimSpace(string(greeting)))
	}
	cl.capa()
	o := cl.c.Options()
	if !cl.c.TLS() {
		want, err := o.StartTLS.Wanted(cl.has("STLS"), "STLS")
		if err != nil {
			return err
		}
		if want {
			if _, err := cl.command(session.TLS, "STLS"); err != nil {
				return err
			}
			if err := cl.c.StartTLS(); err != nil {
				return err
			}
			// RFC 2595 §4: what CAPA said before TLS is forgotten.
			cl.capa()
		}
	}
	cl.c.Transcript().Secret(o.Password)
	if _, err := cl.command(session.Auth, "USER "+o.User); err != nil {
		return err
	}
	if status, err := cl.command(session.Auth, "PASS "+o.Password); err != nil {
		if strings.Contains(status, "[IN-USE]") {
			return session.Fail(session.Auth, fmt.Errorf("%w: %s", ErrInUse, status))
		}
		return err
	}
	return nil
}

// capa asks for the capabilities (RFC 2449 §5); a server without CAPA
// leaves them unknown.
func (cl *Client) capa() {
	cl.caps = nil
	if _, err := cl.command(session.Greeting, "CAPA"); err != nil {
		return
	}
	lines, err := cl.multiLine(session.Greeting, "")
	if err != nil {
		return
	}
	for _, l := range bytes.Split(bytes.TrimSuffix(lines, []byte("\r\n")), []byte("\r\n")) {
		cl.caps = append(cl.caps, string(l))
	}
	if cl.caps == nil {
		cl.caps = []string{}
	}
}

// has reports whether CAPA listed the capability (its first word).
func (cl *Client) has(capability string) bool {
	for _, c := range cl.caps {
		if f := strings.Fields(c); len(f) > 0 && strings.EqualFold(f[0], capability) {
			return true
		}
	}
	return false
}

// command sends a command and reads its status line; -ERR is an error in
// stage (RFC 1939 §3). It returns the status line without CRLF.
func (cl *Client) command(stage session.Stage, line string) (string, error) {
	if err := cl.c.WriteLine(line); err != nil {
		return "", session.Fail(stage, err)
	}
	status, err := cl.c.ReadLine()
	if err != nil {
		return "", session.Fail(stage, err)
	}
	s := strings.TrimRight(string(status), "\r\n")
	if !strings.HasPrefix(s, "+OK") {
		verb, _, _ := strings.Cut(line, " ")
		return s, session.Failf(stage, "%s: %s", verb, s)
	}
	return s, nil
}

// multiLine reads the rest of a multi-line reply up to the line ".",
// undoing byte stuffing (RFC 1939 §3): the bytes are exactly what the
// server meant. data, when not "", names message data the transcript
// summarises ("message data", "header").
func (cl *Client) multiLine(stage session.Stage, data string) ([]byte, error) {
	var out []byte
	tr := cl.c.Transcript()
	for {
		var line []byte
		var err error
		if data != "" {
			line, err = cl.c.ReadDataLine(MaxMessageBytes - len(out))
		} else {
			line, err = cl.c.ReadLine()
		}
		if err != nil {
			return nil, session.Fail(stage, err)
		}
		if string(line) == ".\r\n" {
			if data != "" {
				tr.EndData(transcript.Server, data)
				tr.Line(transcript.Server, line)
			}
			return out, nil
		}
		if line[0] == '.' {
			line = line[1:]
		}
		out = append(out, line...)
		if data == "" && len(out) > maxListingBytes {
			return nil, session.Failf(stage, "a multi-line reply of more than %d octets: not a listing a mailbox gives", maxListingBytes)
		}
	}
}

// maxListingBytes bounds a multi-line reply that is not message data
// (CAPA, LIST, UIDL): a million messages list in about 20 MB, and a
// server streaming lines without end must not take the client's memory.
var maxListingBytes = 64 << 20 // a var: a test lowers it

// List lists the messages with their sizes and, when the server has
// UIDL, their unique ids.
func (cl *Client) List() ([]Entry, error) {
	if _, err := cl.command(session.Mailbox, "LIST"); err != nil {
		return nil, err
	}
	lines, err := cl.multiLine(session.Mailbox, "")
	if err != nil {
		return nil, err
	}
	var entries []Entry
	byNum := map[int]int{}
	for _, l := range strings.Split(strings.TrimSuffix(string(lines), "\r\n"), "\r\n") {
		if l == "" {
			continue
		}
		var e Entry
		if _, err := fmt.Sscanf(l, "%d %d", &e.Num, &e.Size); err != nil {
			return nil, session.Failf(session.Mailbox, "LIST: malformed scan listing %q (RFC 1939 §5)", l)
		}
		byNum[e.Num] = len(entries)
		entries = append(entries, e)
	}
	if cl.caps != nil && !cl.has("UIDL") {
		return entries, nil
	}
	if _, err := cl.command(session.Mailbox, "UIDL"); err != nil {
		// UIDL is optional (RFC 1939 §7): without it, numbers only.
		return entries, nil
	}
	if lines, err = cl.multiLine(session.Mailbox, ""); err != nil {
		return nil, err
	}
	for _, l := range strings.Split(strings.TrimSuffix(string(lines), "\r\n"), "\r\n") {
		num, uidl, ok := strings.Cut(l, " ")
		n, err := strconv.Atoi(num)
		if i, known := byNum[n]; ok && err == nil && known {
			entries[i].UIDL = uidl
		}
	}
	return entries, nil
}

// Header returns the header section of message num, with TOP num 0
// (RFC 1939 §7), or the whole message when the server has no TOP.
func (cl *Client) Header(num int) ([]byte, error) {
	if cl.caps == nil || cl.has("TOP") {
		if _, err := cl.command(session.Mailbox, "TOP "+strconv.Itoa(num)+" 0"); err == nil {
			return cl.multiLine(session.Mailbox, "header")
		} else if cl.caps != nil {
			return nil, err
		}
	}
	return cl.Retrieve(num)
}

// Retrieve returns message num exactly as the server sent it (RETR).
func (cl *Client) Retrieve(num int) ([]byte, error) {
	if _, err := cl.command(session.Retrieve, "RETR "+strconv.Itoa(num)); err != nil {
		return nil, err
	}
	return cl.multiLine(session.Retrieve, "message data")
}

// Delete marks message num deleted (DELE); the server removes it only when
// Quit succeeds (RFC 1939 §6).
func (cl *Client) Delete(num int) error {
	if _, err := cl.command(session.Delete, "DELE "+strconv.Itoa(num)); err != nil {
		return err
	}
	cl.deleted++
	return nil
}

// Quit ends the session; the deletions are done when it returns nil
// (RFC 1939 §6: QUIT enters the UPDATE state). A failure matters only when
// messages were marked, which may then not be deleted: an error in the
// Delete stage.
func (cl *Client) Quit() error {
	defer cl.c.Close()
	_, err := cl.command(session.Delete, "QUIT")
	if cl.deleted == 0 {
		return nil
	}
	return err
}

// Close drops the connection without QUIT: nothing marked is deleted
// (RFC 1939 §6).
func (cl *Client) Close() error { return cl.c.Close() }
