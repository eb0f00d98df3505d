package pop3server

import (
	"bufio"
	"errors"
	"io"
)

// multiline writes the body of a multi-line response (RFC 1939 §3): lines
// ending in CRLF, each line that begins with the termination octet "."
// byte-stuffed with one more ".", and at the end a line holding only ".".
type multiline struct {
	w           *bufio.Writer
	atLineStart bool // the last octet written was an LF, or none was written
	endsCRLF    bool // the last octets written were CRLF, or none was written
	last        byte // the last octet written
}

func newMultiline(w *bufio.Writer) *multiline {
	return &multiline{w: w, atLineStart: true, endsCRLF: true}
}

// line writes one line of text given without its CRLF. The listings that
// use it (LIST, UIDL, CAPA) never begin a line with ".", but it stuffs
// anyway.
func (m *multiline) line(text string) {
	if text != "" && text[0] == '.' {
		m.w.WriteByte('.')
	}
	m.w.WriteString(text)
	m.w.WriteString("\r\n")
	m.atLineStart, m.endsCRLF, m.last = true, true, '\n'
}

// copyMessage copies a message from src, byte-stuffing every line that
// begins with "." (RFC 1939 §3). With bodyLines < 0 it copies all of it
// (RETR); otherwise it stops after the header section, the blank line that
// ends it and bodyLines lines of the body (TOP, RFC 1939 §7), and copies
// the whole message when it has no blank line. It returns the octets taken
// from src, that is the octets sent before stuffing; an error is a failure
// to read src. An LF ends a line for stuffing even without a CR before it,
// so not even a client that accepts bare LF mistakes a message line for
// the end.
func (m *multiline) copyMessage(src *bufio.Reader, bodyLines int64) (read int64, err error) {
	top := bodyLines >= 0
	inHeader := true
	var body int64 // complete body lines written
	for {
		if top && !inHeader && body >= bodyLines {
			return read, nil
		}
		chunk, err := src.ReadSlice('\n')
		if len(chunk) > 0 {
			read += int64(len(chunk))
			complete := chunk[len(chunk)-1] == '\n'
			if m.atLineStart && chunk[0] == '.' {
				m.w.WriteByte('.')
			}
			switch {
			case !complete:
			case inHeader:
				// RFC 5322 §2.1: an empty line separates the header
				// section from the body.
				if m.atLineStart && (len(chunk) == 2 && chunk[0] == '\r' || len(chunk) == 1) {
					inHeader = false
				}
			default:
				body++
			}
			m.w.Write(chunk)
			m.atLineStart = complete
			m.endsCRLF = complete && (len(chunk) >= 2 && chunk[len(chunk)-2] == '\r' || len(chunk) == 1 && m.last == '\r')
			m.last = chunk[len(chunk)-1]
		}
		switch {
		case err == nil || errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return read, nil
		default:
			return read, err
		}
	}
}

// end terminates the response: a CRLF if the content did not end with one
// (the backend broke its promise of CRLF lines; without it a client would
// not see the "." line on a line of its own), then the "." line.
func (m *multiline) end() {
	if !m.endsCRLF {
		m.w.WriteString("\r\n")
	}
	m.w.WriteString(".\r\n")
	m.atLineStart, m.endsCRLF, m.last = true, true, '\n'
}
