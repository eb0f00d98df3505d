package pop3client

import (
	"errors"
	"fmt"
	"strings"
)

// A status line, read against its grammar: RFC 1939 §3 (the status
// indicator) and RFC 2449 §8 (the response code):
//
//	single-line = status [SP text] CRLF        ; 512 octets maximum
//	status      = "+OK" / "-ERR"
//	text        = *schar / resp-code *CHAR
//	resp-code   = "[" resp-level *("/" resp-level) "]"
//	resp-level  = 1*rchar
//	rchar       = %x21-2E / %x30-5C / %x5E-7F  ; printable ASCII, excluding "/" and "]"

// Status is one status line.
type Status struct {
	// Line is the line as read, without its CRLF.
	Line string
	// OK is "+OK"; "-ERR" otherwise.
	OK bool
	// Code is the response code the text begins with, nil when none.
	Code RespCode
	// Text is what follows the status indicator (and the code).
	Text string
}

// RespCode is a response code's levels: [SYS/TEMP] is {"SYS", "TEMP"}.
type RespCode []string

func (c RespCode) String() string { return "[" + strings.Join(c, "/") + "]" }

// Is reports whether the code is name or below it in the hierarchy
// (RFC 2449 §8: "SYS/TEMP" is a kind of "SYS"), without regard to case.
func (c RespCode) Is(name string) bool {
	levels := strings.Split(name, "/")
	if len(c) < len(levels) {
		return false
	}
	for i, l := range levels {
		if !strings.EqualFold(c[i], l) {
			return false
		}
	}
	return true
}

// ErrMalformed is wrapped by a MalformedError and by a STAT answer or a
// listing line that breaks its syntax.
var ErrMalformed = errors.New("malformed POP3 response")

// MalformedError is a line that is no status line: no "+OK" or "-ERR" in
// upper case, followed by a space or the line's end (RFC 1939 §3).
type MalformedError struct{ Line string }

func (e *MalformedError) Error() string {
	return fmt.Sprintf("%q is malformed: RFC 1939 §3: a response begins with a status indicator, \"+OK\" or \"-ERR\" in upper case, then a space or the line's end", e.Line)
}

// Unwrap makes errors.Is(err, ErrMalformed) true.
func (e *MalformedError) Unwrap() error { return ErrMalformed }

// ParseStatus reads a status line (without its CRLF). A line without a
// valid status indicator is a *MalformedError; a response code that
// breaks its rules is left in the text (the status still reads).
func ParseStatus(line string) (Status, error) {
	s := Status{Line: line}
	switch {
	case line == "+OK" || strings.HasPrefix(line, "+OK "):
		s.OK, s.Text = true, strings.TrimPrefix(strings.TrimPrefix(line, "+OK"), " ")
	case line == "-ERR" || strings.HasPrefix(line, "-ERR "):
		s.Text = strings.TrimPrefix(strings.TrimPrefix(line, "-ERR"), " ")
	default:
		return s, &MalformedError{line}
	}
	if code, rest, ok := CutRespCode(s.Text); ok {
		s.Code, s.Text = code, strings.TrimPrefix(rest, " ")
	}
	return s, nil
}

// CutRespCode splits a well-formed response code off the start of text.
func CutRespCode(text string) (RespCode, string, bool) {
	if !strings.HasPrefix(text, "[") {
		return nil, text, false
	}
	end := strings.IndexByte(text, ']')
	if end < 0 {
		return nil, text, false
	}
	levels := strings.Split(text[1:end], "/")
	for _, l := range levels {
		if l == "" || !allRChars(l) {
			return nil, text, false
		}
	}
	return RespCode(levels), text[end+1:], true
}

// allRChars reports whether s is all rchar: printable ASCII but "/" and
// "]".
func allRChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x21 || b > 0x7f || b == '/' || b == ']' {
			return false
		}
	}
	return true
}

// RefusedError is a command the server answered with -ERR.
type RefusedError struct {
	// Command is the verb refused (never its arguments: PASS carries the
	// password).
	Command string
	Status  Status
}

func (e *RefusedError) Error() string { return fmt.Sprintf("%s: %s", e.Command, e.Status.Line) }

// InUse reports whether the refusal says another session holds the
// maildrop ([IN-USE], RFC 2449 §8.1.2), in a code or, leniently, anywhere
// in the text.
func (e *RefusedError) InUse() bool {
	return e.Status.Code.Is("IN-USE") || strings.Contains(e.Status.Text, "[IN-USE]")
}
