package imapwire

import (
	"strconv"
	"strings"
)

// Response is one server response (RFC 9051 §2.2.2): untagged ("*"), a
// command continuation request ("+") or a tagged completion. Literals are
// taken out of the text (their "{n}" markers stay) and kept in Lits, in
// order, so the text can be parsed without tripping over their content.
type Response struct {
	// Tag is "*", "+" or the command's tag.
	Tag string
	// Text is what follows the tag and one space, without the line end.
	Text string
	// Lits are the literals' contents, in the order they came.
	Lits [][]byte
}

// String is the response as shown in verdicts and errors.
func (r *Response) String() string {
	if r == nil {
		return "(none)"
	}
	return strings.TrimSpace(r.Tag + " " + r.Text)
}

// Kind is the first word after the tag, upper case: "OK", "NO", "BAD",
// "BYE", "PREAUTH", "CAPABILITY", "FLAGS", "SEARCH", or, for "* 3 EXISTS",
// the word after the number ("EXISTS").
func (r *Response) Kind() string {
	f := strings.Fields(r.Text)
	if len(f) == 0 {
		return ""
	}
	if _, err := strconv.ParseUint(f[0], 10, 32); err == nil && len(f) > 1 {
		return strings.ToUpper(f[1])
	}
	return strings.ToUpper(f[0])
}

// Num is the number of "* n EXISTS", "* n EXPUNGE" or "* n FETCH"; 0 if
// none.
func (r *Response) Num() uint32 {
	f, _, _ := strings.Cut(r.Text, " ")
	n, _ := strconv.ParseUint(f, 10, 32)
	return uint32(n)
}

// Code is the response code of a status response ("UIDNEXT 7",
// "READ-ONLY", "CAPABILITY IMAP4rev1 …", RFC 9051 §7.1), without
// brackets; "" if none.
func (r *Response) Code() string {
	_, rest, _ := strings.Cut(r.Text, " ")
	if !strings.HasPrefix(rest, "[") {
		return ""
	}
	code, _, _ := strings.Cut(rest[1:], "]")
	return code
}

// CodeIs reports whether the response code's name is name.
func (r *Response) CodeIs(name string) bool {
	n, _, _ := strings.Cut(r.Code(), " ")
	return strings.EqualFold(n, name)
}

// LiteralOf returns the literal that is the value of a FETCH data item
// ("BODY[]", "BODY[HEADER]", "BINARY[]"; RFC 9051 §7.5.2), matched
// without regard to case; ok false when no literal follows that item.
func (r *Response) LiteralOf(item string) (lit []byte, ok bool) {
	text := r.Text
	for i := 0; i < len(r.Lits); i++ {
		open := strings.IndexByte(text, '{')
		if open < 0 {
			return nil, false
		}
		before := strings.TrimSpace(strings.TrimSuffix(text[:open], "~"))
		if n := len(before) - len(item); n >= 0 && strings.EqualFold(before[n:], item) {
			return r.Lits[i], true
		}
		_, text, _ = strings.Cut(text[open:], "}")
	}
	return nil, false
}
