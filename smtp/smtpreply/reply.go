// Package smtpreply holds SMTP replies (RFC 5321 §4.2) with enhanced status
// codes (RFC 3463): the Reply value that the reference server writes and a
// backend may return as an error, and the bounded reader that the clients
// (send, relay, conformance suite, load generator) read replies with.
package smtpreply

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Reply is an SMTP reply: a three-digit code, an optional enhanced status
// code (RFC 3463) and one or more text lines. It implements error so a
// handler can return the reply a failure should produce.
type Reply struct {
	Code     int
	Enhanced string // "5.1.1", or "" for none
	Lines    []string
}

// NewReply builds a one-line reply.
func NewReply(code int, enhanced, format string, args ...any) *Reply {
	return &Reply{Code: code, Enhanced: enhanced, Lines: []string{fmt.Sprintf(format, args...)}}
}

func (r *Reply) Error() string {
	return r.String()
}

// String renders the reply on one line, as a log or error message would.
func (r *Reply) String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(r.Code))
	if r.Enhanced != "" {
		b.WriteByte(' ')
		b.WriteString(r.Enhanced)
	}
	for _, l := range r.Lines {
		b.WriteByte(' ')
		b.WriteString(l)
	}
	return b.String()
}

// Text returns the text lines joined by newlines, enhanced codes removed.
func (r *Reply) Text() string { return strings.Join(r.Lines, "\n") }

// Positive reports a 2xx or 3xx reply.
func (r *Reply) Positive() bool { return r.Code >= 200 && r.Code < 400 }

// Temporary reports a 4xx reply (RFC 5321 §4.2.1: transient negative).
func (r *Reply) Temporary() bool { return r.Code >= 400 && r.Code < 500 }

// Permanent reports a 5xx reply.
func (r *Reply) Permanent() bool { return r.Code >= 500 && r.Code < 600 }

// AppendTo appends the wire form of the reply (RFC 5321 §4.2: "code-text"
// on every line but the last, "code text" on the last) to dst. The enhanced
// code, when set, prefixes every line (RFC 2034 §4).
func (r *Reply) AppendTo(dst []byte) []byte {
	lines := r.Lines
	if len(lines) == 0 {
		lines = []string{""}
	}
	for i, l := range lines {
		dst = strconv.AppendInt(dst, int64(r.Code), 10)
		if i < len(lines)-1 {
			dst = append(dst, '-')
		} else {
			dst = append(dst, ' ')
		}
		if r.Enhanced != "" {
			dst = append(dst, r.Enhanced...)
			if l != "" {
				dst = append(dst, ' ')
			}
		}
		dst = append(dst, l...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// ErrMalformedReply is wrapped by ReadReply when the server's bytes are not
// an RFC 5321 §4.2 reply.
var ErrMalformedReply = errors.New("malformed SMTP reply")

// MaxReplyLines bounds a multi-line reply so a hostile server cannot make a
// client buffer forever.
const MaxReplyLines = 1000

// MaxReplyOctets bounds a whole reply, CRLFs included: a reply is held in
// memory until its last line, and MaxReplyLines lines as long as the
// reader's buffer (a conformance client's is 64 KiB) would be 64 MB per
// reply. 64 KiB is 128 lines of the longest reply line RFC 5321
// §4.5.3.1.5 allows (512 octets), far above what servers send (an EHLO
// listing is under 1 KiB).
const MaxReplyOctets = 64 << 10

// ReadReply reads one possibly multi-line reply within MaxReplyLines and
// MaxReplyOctets. When enhanced is true, a leading "d.d.d " on each line is
// split off into Reply.Enhanced (RFC 2034). Each raw line (without CRLF) is
// passed to onLine when it is not nil, so a caller can keep a transcript.
func ReadReply(r *bufio.Reader, enhanced bool, onLine func(line []byte)) (*Reply, error) {
	return ReadReplyLimited(r, enhanced, Limits{Lines: MaxReplyLines, Octets: MaxReplyOctets}, onLine)
}

// Limits bound one reply read: its lines and its octets, CRLFs included.
// A line is bounded by the reader's buffer (a longer one is refused).
type Limits struct {
	Lines, Octets int
}

// LimitError is a reply past a bound of Limits or a line longer than the
// reader's buffer. It wraps ErrMalformedReply.
type LimitError struct {
	// What is "line", "reply lines" or "reply octets".
	What  string
	Limit int
}

func (e *LimitError) Error() string {
	switch e.What {
	case "line":
		return fmt.Sprintf("%v: line longer than %d octets", ErrMalformedReply, e.Limit)
	case "reply lines":
		return fmt.Sprintf("%v: more than %d lines", ErrMalformedReply, e.Limit)
	}
	return fmt.Sprintf("%v: more than %d octets", ErrMalformedReply, e.Limit)
}

// Unwrap makes errors.Is(err, ErrMalformedReply) true.
func (e *LimitError) Unwrap() error { return ErrMalformedReply }

// ReadReplyLimited is ReadReply within the bounds l; a bound passed is a
// *LimitError, read no further than the bound.
func ReadReplyLimited(r *bufio.Reader, enhanced bool, l Limits, onLine func(line []byte)) (*Reply, error) {
	reply := &Reply{}
	octets := 0
	for n := 0; ; n++ {
		if n >= l.Lines {
			return nil, &LimitError{What: "reply lines", Limit: l.Lines}
		}
		line, err := r.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return nil, &LimitError{What: "line", Limit: r.Size()}
			}
			return nil, err
		}
		if octets += len(line); octets > l.Octets {
			return nil, &LimitError{What: "reply octets", Limit: l.Octets}
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if onLine != nil {
			onLine(line)
		}
		last, err := reply.addLine(n, line, enhanced)
		switch {
		case err != nil:
			return nil, err
		case last:
			return reply, nil
		}
	}
}

// addLine adds the n-th line of a reply (RFC 5321 §4.2: "Reply-code [ SP
// textstring ] CRLF" last, "Reply-code "-" [ textstring ] CRLF" before)
// and reports whether it was the last.
func (reply *Reply) addLine(n int, line []byte, enhanced bool) (last bool, err error) {
	if len(line) < 3 || !isReplyCode(line[:3]) || (len(line) > 3 && line[3] != ' ' && line[3] != '-') {
		return false, fmt.Errorf("%w: %q", ErrMalformedReply, line)
	}
	code, _ := strconv.Atoi(string(line[:3]))
	if n == 0 {
		reply.Code = code
	} else if code != reply.Code {
		return false, fmt.Errorf("%w: code %d inside a %d reply", ErrMalformedReply, code, reply.Code)
	}
	text := ""
	if len(line) > 4 {
		text = string(line[4:])
	}
	if enhanced {
		if esc, rest, ok := SplitEnhanced(text); ok {
			if reply.Enhanced == "" {
				reply.Enhanced = esc
			}
			text = rest
		}
	}
	reply.Lines = append(reply.Lines, text)
	return len(line) == 3 || line[3] == ' ', nil
}

// SplitEnhanced splits a leading enhanced status code ("class.subject.detail",
// RFC 3463 §2) off a reply text.
func SplitEnhanced(text string) (code, rest string, ok bool) {
	end := strings.IndexByte(text, ' ')
	if end < 0 {
		end = len(text)
	}
	parts := strings.Split(text[:end], ".")
	if len(parts) != 3 || len(parts[0]) != 1 || !strings.Contains("245", parts[0]) {
		return "", text, false
	}
	for _, p := range parts[1:] {
		if len(p) < 1 || len(p) > 3 || !isDigits([]byte(p)) {
			return "", text, false
		}
	}
	rest = text[end:]
	rest = strings.TrimPrefix(rest, " ")
	return text[:end], rest, true
}

// isReplyCode reports RFC 5321 §4.2 Reply-code = %x32-35 %x30-35 %x30-39:
// a "100" or "999" is no reply a client can act on.
func isReplyCode(b []byte) bool {
	return b[0] >= '2' && b[0] <= '5' && b[1] >= '0' && b[1] <= '5' && b[2] >= '0' && b[2] <= '9'
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}
