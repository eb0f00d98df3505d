// Package imapwire reads IMAP server responses (RFC 9051 §2.2.2, §7): one
// response at a time, its line and the literals it carries, within the
// limits of a bounds.Policy. A literal is the server's announcement of
// what follows: one over Policy.Literal is refused before anything is
// allocated for it (its content is gathered as it comes, never
// preallocated), and Policy.Total bounds everything read on the
// connection. After such a refusal, or any failed read, the connection is
// out of step with the server: the Reader returns the same error from
// then on.
//
// The conformance suite and the read-back read through a Reader, over the
// engine's recorded connection. The user agent (agent/imapfetch) keeps
// go-imap's client, whose typed commands it needs and where strictness is
// not the point, and puts a Guard in front of it: go-imap allocates
// nothing from a literal's announcement, but reads what a server sends
// without a bound (a header literal whole, a line without end), which the
// Guard stops at the policy.
package imapwire

import (
	"bytes"
	"strings"

	"github.com/mailcheck/mailcheck/bounds"
)

// LineReader gives the server's data a line at a time, the line end
// included (an engine.Conn, an agent session.Conn): it bounds a line and
// every wait itself.
type LineReader interface {
	ReadLine() ([]byte, error)
}

// Reader reads responses from a LineReader.
type Reader struct {
	src    LineReader
	policy bounds.Policy
	meter  *bounds.Meter
	// err, once set, is every later read's: the stream is out of step.
	err error
}

// NewReader reads responses from src within p (zero fields from
// bounds.Default).
func NewReader(src LineReader, p bounds.Policy) *Reader {
	m := bounds.NewMeter(p)
	return &Reader{src: src, policy: m.Policy(), meter: m}
}

// Policy is the reader's policy, its defaults filled in.
func (r *Reader) Policy() bounds.Policy { return r.policy }

// Err is the error that made the connection unusable, nil while it is not.
func (r *Reader) Err() error { return r.err }

// Read reads one response, literals included.
func (r *Reader) Read() (*Response, error) {
	if r.err != nil {
		return nil, r.err
	}
	resp, err := r.response()
	if err != nil {
		r.err = err
		return nil, err
	}
	return resp, nil
}

// response reads a line; while it ends announcing a literal, the literal
// and the line that goes on after it.
func (r *Reader) response() (*Response, error) {
	var text bytes.Buffer
	var lits [][]byte
	chunk, err := r.line()
	for err == nil {
		lit, ok := LiteralAt(chunk)
		if !ok {
			text.Write(bytes.TrimRight(chunk, "\r\n"))
			break
		}
		text.Write(bytes.TrimRight(chunk, "\r\n"))
		var content, rest []byte
		if content, rest, err = r.literal(lit); err == nil {
			lits = append(lits, content)
			chunk = rest
			if chunk == nil {
				chunk, err = r.line()
			}
		}
	}
	if err != nil {
		return nil, err
	}
	tag, rest, _ := strings.Cut(text.String(), " ")
	return &Response{Tag: tag, Text: rest, Lits: lits}, nil
}

// literal reads the content of an announced literal: refused, before
// anything is read or allocated, when the announcement is over
// Policy.Literal; gathered as it comes otherwise. rest is what came after
// the literal on its last line (nil when the literal ended a line).
func (r *Reader) literal(lit Literal) (content, rest []byte, err error) {
	if err := lit.Check(r.policy); err != nil {
		return nil, nil, err
	}
	for int64(len(content)) < lit.Size {
		more, err := r.line()
		if err != nil {
			return nil, nil, err
		}
		need := lit.Size - int64(len(content))
		if int64(len(more)) > need {
			return append(content, more[:need]...), more[need:], nil
		}
		content = append(content, more...)
	}
	if content == nil {
		content = []byte{}
	}
	return content, nil, nil
}

// line reads one line, counted against Policy.Total and bounded by
// Policy.Line.
func (r *Reader) line() ([]byte, error) {
	l, err := r.src.ReadLine()
	if err != nil {
		return nil, err
	}
	if err := r.meter.Line(l); err != nil {
		return nil, err
	}
	return l, nil
}
