package faultsmtp

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// reply is one reply of the server (RFC 5321 §4.2): a code and the text
// of each line, enhanced status code included.
type reply struct {
	code  int
	lines []string
}

// errReply is a server reply the proxy cannot read: the reference server
// never sends one, so it ends the connection.
var errReply = errors.New("faultsmtp: malformed reply from the server")

// readReply reads a whole reply, at most smtpreply.MaxReplyLines lines.
func readReply(r *bufio.Reader) (*reply, error) {
	out := &reply{}
	for range smtpreply.MaxReplyLines {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimSuffix(line, "\r\n")
		if len(line) < 4 {
			return nil, fmt.Errorf("%w: %q", errReply, line)
		}
		code, err := strconv.Atoi(line[:3])
		if err != nil || out.lines != nil && code != out.code {
			return nil, fmt.Errorf("%w: %q", errReply, line)
		}
		out.code = code
		out.lines = append(out.lines, line[4:])
		if line[3] == ' ' {
			return out, nil
		}
	}
	return nil, fmt.Errorf("%w: over %d lines", errReply, smtpreply.MaxReplyLines)
}

// wire is the reply's RFC 5321 §4.2.1 form: "code-text" CRLF on every
// line but the last, "code text" CRLF on the last.
func (r *reply) wire() []byte {
	var b []byte
	for i, l := range r.lines {
		sep := byte(' ')
		if i < len(r.lines)-1 {
			sep = '-'
		}
		b = strconv.AppendInt(b, int64(r.code), 10)
		b = append(append(append(b, sep), l...), '\r', '\n')
	}
	return b
}

// text is the text of line i.
func (r *reply) text(i int) string {
	if i >= len(r.lines) {
		return ""
	}
	return r.lines[i]
}

// setEnhanced gives every line the enhanced code e ("" for none),
// replacing the code it had (RFC 3463 §2, RFC 2034 §4).
func (r *reply) setEnhanced(e string) {
	for i, l := range r.lines {
		if _, rest, ok := smtpreply.SplitEnhanced(l); ok {
			l = rest
		}
		if e != "" {
			l = e + " " + l
		}
		r.lines[i] = l
	}
}

// enhanced is the enhanced code of the first line, "" if none.
func (r *reply) enhanced() string {
	code, _, _ := smtpreply.SplitEnhanced(r.text(0))
	return code
}

// keyword is the index of the EHLO keyword kw (RFC 5321 §4.1.1.1) in an
// EHLO reply, or -1.
func (r *reply) keyword(kw string) int {
	for i, l := range r.lines[1:] {
		k, _, _ := strings.Cut(l, " ")
		if strings.EqualFold(k, kw) {
			return i + 1
		}
	}
	return -1
}

// insert puts line at index i.
func (r *reply) insert(i int, line string) {
	r.lines = append(r.lines[:i], append([]string{line}, r.lines[i:]...)...)
}
