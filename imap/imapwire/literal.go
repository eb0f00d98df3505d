package imapwire

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/mailcheck/mailcheck/bounds"
)

// Literal is a literal's announcement at the end of a line (RFC 9051 §9):
//
//	literal  = "{" number64 ["+"] "}" CRLF *CHAR8
//	literal8 = "~{" number64 ["+"] "}" CRLF *OCTET   ; RFC 3516, RFC 9051 §9
//
// The "+" (a non-synchronizing literal, RFC 7888) is a client's; a server
// has no reason to send it, but a reader loses nothing by taking it.
type Literal struct {
	// Size is the announced number of octets (0 when it does not fit);
	// Digits the number as sent, for errors.
	Size   int64
	Digits string
	// Fits is false when the number does not fit a number64.
	Fits bool
}

// LiteralAt finds a literal's announcement ending line (CRLF included; a
// bare LF is taken too, the line ending a reader would see), ok false when
// the line announces none.
func LiteralAt(line []byte) (lit Literal, ok bool) {
	b := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if len(b) == len(line) || !bytes.HasSuffix(b, []byte("}")) {
		return Literal{}, false
	}
	b = b[:len(b)-1]
	b = bytes.TrimSuffix(b, []byte("+"))
	end := len(b)
	start := end
	for start > 0 && b[start-1] >= '0' && b[start-1] <= '9' {
		start--
	}
	if start == end || start == 0 || b[start-1] != '{' {
		return Literal{}, false
	}
	lit.Digits = string(b[start:end])
	n, err := strconv.ParseInt(lit.Digits, 10, 64)
	if lit.Fits = err == nil; lit.Fits {
		lit.Size = n
	}
	return lit, true
}

// Check refuses the literal, before anything of it is read, when its
// announced size is over p's Literal bound (or no number64 at all).
func (l Literal) Check(p bounds.Policy) error {
	if !l.Fits {
		return fmt.Errorf("the server announced a literal of %s octets, more than the limit of %d: refused: %w", l.Digits, p.WithDefaults().Literal, bounds.ErrExceeded)
	}
	return p.CheckLiteral(l.Size)
}
