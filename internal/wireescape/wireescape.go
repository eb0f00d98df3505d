// Package wireescape renders a protocol line for a transcript, and reads
// it back: the one escaping that the conformance engine's transcripts
// (conform --json, the reports) and the user agent's transcripts (send,
// fetch) share.
//
// Every octet is shown as it is except the ones a reader could not see or
// tell apart: CR, LF and TAB become \r, \n and \t, other control and 8-bit
// octets \xNN, and the backslash itself becomes \\. The last rule is what
// makes a line round-trip: were the backslash kept as it is, the four
// printable octets `\r` on the wire and a bare CR would both read `\r`
// (IMAP's \Seen reads \\Seen in a transcript).
package wireescape

import (
	"errors"
	"strconv"
)

const hexDigits = "0123456789abcdef"

// Line renders b: a final CRLF is dropped (it is every line's end, and
// the transcript shows one line per row); every other octet is escaped as
// the package says.
func Line(b []byte) string {
	if n := len(b); n >= 2 && b[n-2] == '\r' && b[n-1] == '\n' {
		b = b[:n-2]
	}
	out := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case c == '\\':
			out = append(out, '\\', '\\')
		case c >= 0x20 && c < 0x7f:
			out = append(out, c)
		case c == '\r':
			out = append(out, '\\', 'r')
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\t':
			out = append(out, '\\', 't')
		default:
			out = append(out, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(out)
}

// ErrMalformed is returned by Unescape for text Line cannot have written.
var ErrMalformed = errors.New("not an escaped transcript line")

// Unescape returns the octets Line rendered as s (without the final CRLF
// Line drops).
func Unescape(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 >= len(s) {
			return nil, ErrMalformed
		}
		i++
		switch s[i] {
		case '\\':
			out = append(out, '\\')
		case 'r':
			out = append(out, '\r')
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'x':
			if i+2 >= len(s) {
				return nil, ErrMalformed
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return nil, ErrMalformed
			}
			out = append(out, byte(v))
			i += 2
		default:
			return nil, ErrMalformed
		}
	}
	return out, nil
}
