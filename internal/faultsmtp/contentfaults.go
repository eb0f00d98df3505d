package faultsmtp

import (
	"bytes"
	"fmt"
	"strings"
)

// Faults in what the server makes of a message it accepts, the way real
// servers were seen to alter content: cutting long lines, mbox "From "
// quoting, refolding long header lines. The correct server stores each
// line as received.

// maxTextLine is RFC 5321 §4.5.3.1.6's text line limit, CRLF included.
const maxTextLine = 1000

// line is one line of a message: its content, without dot-stuffing, and
// whether it is in the header.
type line struct {
	content  []byte // with its line end
	inHeader bool
}

// eachLine alters a message's wire lines one content line at a time,
// undoing and redoing the dot-stuffing (RFC 5321 §4.5.2) around alter.
func eachLine(alter func(l line) []byte) func([][]byte) [][]byte {
	return func(lines [][]byte) [][]byte {
		inHeader := true
		out := make([][]byte, len(lines))
		for i, wire := range lines {
			content := bytes.TrimPrefix(wire, []byte("."))
			altered := alter(line{content, inHeader})
			out[i] = stuffed(altered)
			// The header ends at its first empty line.
			inHeader = inHeader && len(content) > 2
		}
		return out
	}
}

// stuffed dot-stuffs each line of content (it may hold several).
func stuffed(content []byte) []byte {
	var out []byte
	for _, l := range bytes.SplitAfter(content, []byte("\r\n")) {
		if len(l) > 0 && l[0] == '.' {
			out = append(out, '.')
		}
		out = append(out, l...)
	}
	return out
}

// altering is a fault that alters content.
func altering(alter func(l line) []byte) *Fault { return &Fault{content: eachLine(alter)} }

// KeepStuffedDots does not remove the stuffed dot (smtp.data.transparency;
// the end-to-end checks see it too): the server gets each dot-led line
// stuffed once more.
var KeepStuffedDots = &Fault{content: func(lines [][]byte) [][]byte {
	out := make([][]byte, len(lines))
	for i, l := range lines {
		out[i] = stuffed(l)
	}
	return out
}}

// TruncateLongLines takes body lines over 1000 octets and stores them cut
// to 998 (smtp.content.long-line-1500, smtp.content.long-line-5000).
var TruncateLongLines = altering(func(l line) []byte {
	if l.inHeader || len(l.content) <= maxTextLine {
		return l.content
	}
	return append(l.content[:maxTextLine-2:maxTextLine-2], "\r\n"...)
})

// QuoteFromLines stores a body line starting "From " as ">From ", as an
// mbox store that does not undo its quoting would (smtp.content.from-line).
var QuoteFromLines = altering(func(l line) []byte {
	if l.inHeader || !bytes.HasPrefix(l.content, []byte("From ")) {
		return l.content
	}
	return append([]byte(">"), l.content...)
})

// RefoldLongHeaderLines takes header lines over 1000 octets and stores
// them folded into lines of about 78 octets
// (smtp.content.long-header-line).
var RefoldLongHeaderLines = altering(func(l line) []byte {
	if !l.inHeader || len(l.content) <= maxTextLine {
		return l.content
	}
	return refolded(l.content)
})

// refolded folds a header line at spaces into lines of about 78 octets.
func refolded(content []byte) []byte {
	words := strings.Split(strings.TrimRight(string(content), "\r\n"), " ")
	var b strings.Builder
	width := 0
	for i, w := range words {
		switch {
		case i == 0:
		case width+1+len(w) > 78:
			b.WriteString("\r\n")
			width = 0
			fallthrough
		default:
			b.WriteString(" ")
			width++
		}
		b.WriteString(w)
		width += len(w)
	}
	return []byte(b.String() + "\r\n")
}

// MaxTextLine refuses messages with a text line over n octets, CRLF
// included, below the RFC 5321 §4.5.3.1.6 minimum of 1000 when n is
// (smtp.limit.text-line-1000): the server gets such a line lengthened
// past its own limit, and its refusal names n.
func MaxTextLine(n int) *Fault {
	limit := fmt.Sprintf(" %d octets", maxTextLine)
	return &Fault{
		content: eachLine(func(l line) []byte {
			if len(l.content) <= n {
				return l.content
			}
			return append(bytes.Repeat([]byte("x"), maxTextLine), l.content...)
		}),
		reply: func(_ *conn, cmd *command, r *reply) {
			if cmd.kind == kindDataEnd && r.code == 554 {
				r.lines[0] = strings.Replace(r.lines[0], limit, fmt.Sprintf(" %d octets", n), 1)
			}
		},
	}
}
