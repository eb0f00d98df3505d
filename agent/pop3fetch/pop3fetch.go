// Package pop3fetch reads a maildrop over POP3 (RFC 1939) with the
// pop3client core: greeting, CAPA (RFC 2449), STLS (RFC 2595), USER/PASS,
// LIST, UIDL, TOP, RETR, DELE and QUIT, with every line in the transcript
// (the password masked, message data summarised) and every failure tagged
// with its stage. Messages come back exactly as the server sent them,
// byte stuffing undone, each bounded by the session's
// Options.Bounds.Literal.
package pop3fetch

import (
	"context"
	"errors"
	"fmt"

	"github.com/mailcheck/mailcheck/agent/session"
	"github.com/mailcheck/mailcheck/pop3/pop3client"
)

// MaxMessageBytes is the default bound of one message (bounds.Default's
// Literal), so that a server that never ends one cannot exhaust memory.
//
// Deprecated: the bound is session.Options.Bounds.Literal.
const MaxMessageBytes = 64 << 20

// ErrInUse is wrapped by Dial's error when the server says another
// session holds the maildrop (RFC 2449 §8.1.1, [IN-USE]): worth trying
// again later.
var ErrInUse = errors.New("the maildrop is in use by another session")

// Client is a POP3 session in the TRANSACTION state.
type Client struct {
	c    *session.Conn
	w    *wire
	pop  *pop3client.Client
	caps pop3client.Capabilities
	// deleted counts the messages marked for deletion.
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

// maxListingBytes is the default bound of a listing (CAPA, LIST, UIDL)
// when the session's Options.Bounds sets none: a million messages list in
// about 20 MB. A var: a test lowers it.
var maxListingBytes = 64 << 20

// Dial connects, upgrades with STLS as the policy says and logs in with
// USER and PASS.
func Dial(ctx context.Context, o session.Options) (*Client, error) {
	c, err := session.Dial(ctx, o)
	if err != nil {
		return nil, err
	}
	p := o.Policy()
	if o.Bounds.Listing <= 0 {
		p.Listing = int64(maxListingBytes)
	}
	w := &wire{c: c}
	cl := &Client{c: c, w: w, pop: pop3client.New(w, p)}
	if err := cl.login(); err != nil {
		c.Close()
		return nil, err
	}
	return cl, nil
}

func (cl *Client) login() error {
	st, err := cl.pop.Greeting()
	if err != nil {
		return session.Fail(session.Greeting, err)
	}
	if !st.OK {
		return session.Failf(session.Greeting, "not a POP3 greeting: %q", st.Line)
	}
	cl.capa()
	o := cl.c.Options()
	if !cl.c.TLS() {
		want, err := o.StartTLS.Wanted(cl.caps.Has("STLS"), "STLS")
		if err != nil {
			return err
		}
		if want {
			if err := cl.pop.STLS(); err != nil {
				return session.Fail(session.TLS, err)
			}
			// RFC 2595 §4: what CAPA said before TLS is forgotten.
			cl.capa()
		}
	}
	cl.c.Transcript().Secret(o.Password)
	err = cl.pop.Login(o.User, o.Password)
	var refused *pop3client.RefusedError
	if errors.As(err, &refused) && refused.InUse() {
		return session.Fail(session.Auth, fmt.Errorf("%w: %s", ErrInUse, refused.Status.Line))
	}
	return session.Fail(session.Auth, err)
}

// capa asks for the capabilities (RFC 2449 §5); a server without CAPA
// leaves them unknown (nil).
func (cl *Client) capa() {
	cl.caps, _ = cl.pop.Capa()
}

// List lists the messages with their sizes and, when the server has
// UIDL, their unique ids.
func (cl *Client) List() ([]Entry, error) {
	listing, err := cl.pop.List()
	if err != nil {
		return nil, session.Fail(session.Mailbox, err)
	}
	entries := make([]Entry, 0, len(listing))
	byNum := map[int]int{}
	for _, l := range listing {
		byNum[l.Num] = len(entries)
		entries = append(entries, Entry{Num: l.Num, Size: l.Size})
	}
	if cl.caps != nil && !cl.caps.Has("UIDL") {
		return entries, nil
	}
	uids, err := cl.pop.UIDL()
	switch {
	case pop3client.Refused(err) || errors.Is(err, pop3client.ErrMalformed):
		// UIDL is optional (RFC 1939 §7): without it, or with one that
		// cannot be read, numbers only.
		cl.c.Transcript().Note("no usable UIDL (%v): messages are known by number only", err)
		return entries, nil
	case err != nil:
		return nil, session.Fail(session.Mailbox, err)
	}
	for _, u := range uids {
		if i, known := byNum[u.Num]; known {
			entries[i].UIDL = u.UID
		}
	}
	return entries, nil
}

// Header returns the header section of message num, with TOP num 0
// (RFC 1939 §7), or the whole message when the server has no TOP.
func (cl *Client) Header(num int) ([]byte, error) {
	if cl.caps == nil || cl.caps.Has("TOP") {
		head, err := cl.data(session.Mailbox, "header", fmt.Sprintf("TOP %d 0", num))
		if !pop3client.Refused(err) || cl.caps != nil {
			// TOP is optional (RFC 1939 §7): refused by a server that
			// did not say whether it has it, RETR stands in.
			return head, err
		}
	}
	return cl.Retrieve(num)
}

// Retrieve returns message num exactly as the server sent it (RETR).
func (cl *Client) Retrieve(num int) ([]byte, error) {
	return cl.data(session.Retrieve, "message data", fmt.Sprintf("RETR %d", num))
}

// data sends a command answered with message data and reads it, the
// transcript summarising it as what, bounded by the policy's Literal.
func (cl *Client) data(stage session.Stage, what, command string) ([]byte, error) {
	if _, err := cl.pop.OK(command); err != nil {
		return nil, session.Fail(stage, err)
	}
	cl.w.data = what
	defer func() { cl.w.data = "" }()
	body, err := cl.pop.ReadMulti(cl.pop.Policy().Literal)
	return body, session.Fail(stage, err)
}

// Delete marks message num deleted (DELE); the server removes it only when
// Quit succeeds (RFC 1939 §6).
func (cl *Client) Delete(num int) error {
	if err := cl.pop.Dele(num); err != nil {
		return session.Fail(session.Delete, err)
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
	err := cl.pop.Quit()
	if cl.deleted == 0 {
		return nil
	}
	return session.Fail(session.Delete, err)
}

// Close drops the connection without QUIT: nothing marked is deleted
// (RFC 1939 §6).
func (cl *Client) Close() error { return cl.c.Close() }
