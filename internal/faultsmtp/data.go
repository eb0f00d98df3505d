package faultsmtp

import (
	"bufio"
	"bytes"
	"errors"
)

// realEnd is the one end of data (RFC 5321 §4.1.1.4): CRLF "." CRLF.
const realEnd = "\r\n.\r\n"

// errTooBig ends a connection whose message outgrows maxMessage.
var errTooBig = errors.New("faultsmtp: message over the proxy's limit")

// readToEnd reads a message up to CRLF.CRLF, the way the correct server
// ends DATA, or, when also is not empty, up to also as well, whichever
// comes first: a server that takes a malformed sequence for the end of
// data, the receiving half of an SMTP smuggling variant. The message up
// to and with also is then passed on as if CRLF.CRLF had followed. A
// sequence that ends inside the real end ("\r\n.\r", "\n.\r") ends DATA
// only when the rest of the real end is not waiting to complete it.
func readToEnd(r *bufio.Reader, also string) ([]byte, error) {
	raw := []byte("\r\n") // DATA begins at the start of a line
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		raw = append(raw, b)
		switch {
		case len(raw) > maxMessage:
			return nil, errTooBig
		case bytes.HasSuffix(raw, []byte(realEnd)):
			return raw[2:], nil
		case also != "" && bytes.HasSuffix(raw, []byte(also)) && !realEndFollows(r, raw, also):
			return append(raw[2:], realEnd...), nil
		}
	}
}

// realEndFollows reports whether raw, which ends in also, ends in a start
// of the real end of data that holds all of also and whose next octet is
// already buffered.
func realEndFollows(r *bufio.Reader, raw []byte, also string) bool {
	if r.Buffered() == 0 {
		return false
	}
	next, _ := r.Peek(1)
	for k := len(realEnd) - 1; k >= len(also); k-- {
		if bytes.HasSuffix(raw, []byte(realEnd[:k])) && next[0] == realEnd[k] {
			return true
		}
	}
	return false
}

// lineEnds is how a lenient server reads DATA line by line (a line ends
// at LF): atStart says a line begins after prev (nil: the first line);
// ends says the line ends the data. It returns the octets for the correct
// server: the lines before, as passed by pass, then the real end.
type lineEnds struct {
	atStart func(prev []byte) bool
	ends    func(line []byte) bool
	pass    func(line []byte) []byte
}

// read reads one message the lenient way.
func (e lineEnds) read(r *bufio.Reader) ([]byte, error) {
	var out, prev []byte
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return nil, err
		}
		if (prev == nil || e.atStart(prev)) && e.ends(line) {
			// The correct server ends DATA only after a CRLF.
			if prev != nil && !bytes.HasSuffix(out, []byte("\r\n")) {
				out = append(out, "\r\n"...)
			}
			return append(out, ".\r\n"...), nil
		}
		if e.pass != nil {
			line = e.pass(line)
		}
		out = append(out, line...)
		if len(out) > maxMessage {
			return nil, errTooBig
		}
		prev = line
	}
}

// afterCRLF is the correct line start: after CRLF (RFC 5321 §2.3.8).
func afterCRLF(prev []byte) bool { return bytes.HasSuffix(prev, []byte("\r\n")) }

// afterLF takes any LF for a line end.
func afterLF(prev []byte) bool { return bytes.HasSuffix(prev, []byte("\n")) }

// isRealEndLine is the "." line of the real end.
func isRealEndLine(line []byte) bool { return string(line) == ".\r\n" }

// withContent applies alter to the lines of msg, a message as the correct
// server is to get it (ending in CRLF.CRLF).
func withContent(msg []byte, alter func([][]byte) [][]byte) []byte {
	body := msg[:len(msg)-len(".\r\n")]
	lines := bytes.SplitAfter(body, []byte("\r\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	return append(bytes.Join(alter(lines), nil), ".\r\n"...)
}
