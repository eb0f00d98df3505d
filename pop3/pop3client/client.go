// Package pop3client is mailcheck's one POP3 client (RFC 1939): status
// lines and multi-line responses read within a bounds.Policy, typed CAPA
// (RFC 2449), STLS (RFC 2595), USER/PASS, AUTH with a go-sasl mechanism
// (RFC 5034), the transaction commands with parsed answers, and a raw mode
// for checks that must send exact bytes. The conformance suite, the
// read-back and the user agent's fetch all speak POP3 through it.
//
// The Client speaks the protocol over a Wire, which carries lines and
// bounds every wait: the conformance engine's recorded connection, the
// user agent's session, or a Conn this package dials (plain, STLS or
// implicit TLS, every wait bounded by a timeout, with transcript and
// per-phase timing hooks).
package pop3client

import (
	"io"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/bounds"
)

// Wire carries the conversation: ReadLine returns one line from the
// server, its line end included, and bounds the line and the wait itself;
// Write sends octets exactly as given.
type Wire interface {
	ReadLine() ([]byte, error)
	Write(b []byte) error
}

// TLSWire is a Wire that can run the TLS handshake in place, after STLS.
type TLSWire interface {
	Wire
	StartTLS() error
	TLS() bool
}

// Client is one POP3 session.
type Client struct {
	w      Wire
	policy bounds.Policy
	meter  *bounds.Meter
	// caps is the last CAPA answer, nil when not asked or not offered.
	caps Capabilities
	// OnReply, when set, is told how long each command waited for its
	// status line (the phase is the command's verb, "greeting" for the
	// greeting): the per-phase timing hook.
	OnReply func(phase string, wait time.Duration)
	// asked is when the last command went out, phase its verb.
	asked time.Time
	phase string
}

// New speaks POP3 over w within p (zero fields from bounds.Default). The
// greeting is not read: call Greeting.
func New(w Wire, p bounds.Policy) *Client {
	m := bounds.NewMeter(p)
	return &Client{w: w, policy: m.Policy(), meter: m, asked: time.Now(), phase: "greeting"}
}

// Policy is the client's read bounds, defaults filled in.
func (c *Client) Policy() bounds.Policy { return c.policy }

// Wire is the connection the client speaks over.
func (c *Client) Wire() Wire { return c.w }

// Write sends b exactly as given: the raw mode of checks that send bare
// LFs, over-long lines or several commands at once. The next status line
// read is timed from here.
func (c *Client) Write(b []byte) error {
	c.asked = time.Now()
	verb, _, _ := strings.Cut(strings.TrimRight(string(b), "\r\n"), " ")
	c.phase = strings.ToUpper(verb)
	return c.w.Write(b)
}

// Send sends line and CRLF.
func (c *Client) Send(line string) error { return c.Write([]byte(line + "\r\n")) }

// ReadLine reads one line as the server sent it, counted against
// Policy.Total and bounded by Policy.Line.
func (c *Client) ReadLine() ([]byte, error) {
	l, err := c.w.ReadLine()
	if err != nil {
		return l, err
	}
	return l, c.meter.Line(l)
}

// next reads one line, counted against Policy.Total. A line of message
// data is bounded by the Wire and the message's bound, not Policy.Line:
// RFC 5322 §2.1.1 limits a line to 998 octets, a MUST that real mail
// breaks, and a reader loses nothing by taking a longer one whole.
func (c *Client) next() ([]byte, error) {
	l, err := c.w.ReadLine()
	if err != nil {
		return l, err
	}
	return l, c.meter.Count(len(l))
}

// Close closes the Wire when it can be closed (a Conn), without QUIT:
// nothing marked deleted is removed (RFC 1939 §6).
func (c *Client) Close() error {
	if cl, ok := c.w.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}
