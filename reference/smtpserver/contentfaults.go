package smtpserver

import (
	"bytes"
	"strings"
)

// The content faults alter what the server stores, the way real servers
// have been seen to: cutting long lines, mbox "From " quoting, refolding
// long header lines. The correct server stores each line as received.

// acceptsLongLine reports whether a fault takes a line over the limit
// (in the header or the body) instead of refusing the message.
func (f *Faults) acceptsLongLine(inHeader bool) bool {
	return f.TruncateLongLines && !inHeader || f.RefoldLongHeaderLines && inHeader
}

// alterLine returns the chunk of a line to store: content itself, unless
// a content fault changes it. lineStart says the chunk starts a line,
// before is how much of the line came in earlier chunks, complete that
// the chunk ends the line.
func (f *Faults) alterLine(content []byte, lineStart bool, before int, complete, inHeader bool) []byte {
	switch {
	case f.QuoteFromLines && !inHeader && lineStart && bytes.HasPrefix(content, []byte("From ")):
		return append([]byte(">"), content...)
	case f.TruncateLongLines && !inHeader:
		return truncated(content, before, complete)
	case f.RefoldLongHeaderLines && inHeader && lineStart && complete && len(content) > maxTextLine:
		return refolded(content)
	}
	return content
}

// truncated keeps the first 998 octets of a line's text, and its end.
func truncated(content []byte, before int, complete bool) []byte {
	text, end := content, []byte(nil)
	if complete {
		text, end = bytes.TrimRight(content, "\r\n"), content[len(bytes.TrimRight(content, "\r\n")):]
	}
	keep := max(0, maxTextLine-2-before)
	if len(text) > keep {
		text = text[:keep]
	}
	return append(append([]byte(nil), text...), end...)
}

// refolded folds a header line at spaces into lines of about 78 octets.
func refolded(line []byte) []byte {
	words := strings.Split(strings.TrimRight(string(line), "\r\n"), " ")
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
