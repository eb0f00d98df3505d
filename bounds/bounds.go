// Package bounds is the one policy for how much of a server's data
// mailcheck's clients read: a line, a reply of several lines, a literal or
// message a server announces, and all octets of a connection. Every reader
// of server data (the SMTP, POP3 and IMAP clients, the conformance suites,
// the read-back, seed, send and fetch) takes its limits from a Policy, so a
// hostile server gets the same refusal everywhere: an error naming the
// limit, never an allocation of what it merely announced.
package bounds

import (
	"errors"
	"fmt"
)

// Policy is a set of read limits. A zero field takes Default's value (see
// WithDefaults); no field means "unlimited".
type Policy struct {
	// Line bounds one line, CRLF included. RFC 5321 §4.5.3.1.5 sets 512
	// octets for an SMTP reply line and RFC 9051 and RFC 1939 set none, so
	// the bound is generous: it only stops a server that never ends a line.
	Line int
	// ReplyLines bounds the lines of one multi-line reply (an SMTP reply,
	// a POP3 CAPA answer).
	ReplyLines int
	// ReplyOctets bounds one whole reply, CRLFs included: a reply is held
	// in memory until its last line.
	ReplyOctets int
	// Listing bounds an answer that is no message but is held whole
	// until it ends: a POP3 CAPA, LIST or UIDL answer (RFC 1939 §5, §7;
	// RFC 2449 §5), the untagged responses of one IMAP command. A
	// million messages list in about 20 MB.
	Listing int64
	// Literal bounds one IMAP literal or one POP3 multi-line response
	// (a message): checked against the announced size before anything is
	// allocated, and again while reading.
	Literal int64
	// Total bounds all octets read on one connection.
	Total int64
}

// Default is what a client reads when not told otherwise.
var Default = Policy{
	Line:        64 << 10,
	ReplyLines:  1000,
	ReplyOctets: 64 << 10,
	Listing:     64 << 20,
	Literal:     64 << 20,
	Total:       256 << 20,
}

// WithDefaults returns p with each zero field set from Default.
func (p Policy) WithDefaults() Policy {
	if p.Line <= 0 {
		p.Line = Default.Line
	}
	if p.ReplyLines <= 0 {
		p.ReplyLines = Default.ReplyLines
	}
	if p.ReplyOctets <= 0 {
		p.ReplyOctets = Default.ReplyOctets
	}
	if p.Listing <= 0 {
		p.Listing = Default.Listing
	}
	if p.Literal <= 0 {
		p.Literal = Default.Literal
	}
	if p.Total <= 0 {
		p.Total = Default.Total
	}
	return p
}

// ErrExceeded is wrapped by every error of a limit passed.
var ErrExceeded = errors.New("read limit exceeded")

// ExceededError says which limit a server's data passed.
type ExceededError struct {
	// What is the limit: "line", "reply lines", "reply octets",
	// "multi-line reply", "literal", "connection's data".
	What string
	// Limit is the bound; Announced, when not 0, the size the server
	// announced (an IMAP literal's {n}, a POP3 LIST size).
	Limit, Announced int64
}

func (e *ExceededError) Error() string {
	if e.Announced > 0 {
		return fmt.Sprintf("the server announced a %s of %d octets, more than the limit of %d: refused", e.What, e.Announced, e.Limit)
	}
	return fmt.Sprintf("the server sent a %s of more than %d %s: stopped reading", e.What, e.Limit, e.unit())
}

// unit is what Limit counts: lines for "reply lines", octets otherwise.
func (e *ExceededError) unit() string {
	if e.What == "reply lines" {
		return "lines"
	}
	return "octets"
}

// Is makes errors.Is(err, ErrExceeded) true.
func (e *ExceededError) Is(target error) bool { return target == ErrExceeded }

// CheckLiteral refuses an announced literal or message size over the
// policy's Literal bound, before the caller allocates or reads it.
func (p Policy) CheckLiteral(announced int64) error {
	p = p.WithDefaults()
	if announced > p.Literal {
		return &ExceededError{What: "literal", Limit: p.Literal, Announced: announced}
	}
	return nil
}
