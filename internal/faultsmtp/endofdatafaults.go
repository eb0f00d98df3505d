package faultsmtp

import "bytes"

// Faults in where DATA ends (RFC 5321 §2.3.8, §4.1.1.4): each is the
// receiving half of an SMTP smuggling variant or of a broken dot rule.
// What the fault's server takes for the end, the correct server gets as
// CRLF.CRLF; what follows runs as commands on both.

// reading is a fault that reads DATA with read.
func reading(read func(c *conn) ([]byte, error)) *Fault { return &Fault{data: read} }

// DotLineEndsData ends DATA at any line starting with "."
// (smtp.data.dot-termination).
var DotLineEndsData = reading(lineEnds{
	atStart: afterCRLF,
	ends:    func(line []byte) bool { return line[0] == '.' },
}.reader())

// BareLFEndsData takes a bare LF for a line end: "\n.\n" ends DATA, and
// the bare LFs are taken (the server gets CRLF for them)
// (smtp.data.bare-lf-dot).
var BareLFEndsData = reading(lineEnds{
	atStart: afterLF,
	ends:    func(line []byte) bool { return string(line) == ".\n" || isRealEndLine(line) },
	pass: func(line []byte) []byte {
		if bytes.HasSuffix(line, []byte("\r\n")) {
			return line
		}
		return append(line[:len(line)-1:len(line)-1], "\r\n"...)
	},
}.reader())

// LFStartsLine takes a bare LF for a line end when looking for the end
// of data, so "\n.\r\n" ends DATA, while the bare LF is still refused:
// the receiving half of the <LF>.<CR><LF> smuggling variant
// (smtp.data.lf-dot-crlf).
var LFStartsLine = reading(lineEnds{atStart: afterLF, ends: isRealEndLine}.reader())

// reader is e as a Fault.data.
func (e lineEnds) reader() func(c *conn) ([]byte, error) {
	return func(c *conn) ([]byte, error) { return e.read(c.cr) }
}

// EndOfData ends DATA at seq as well, the way a lenient server takes a
// malformed end of data ("\r.\r", "\r\n\x00.\r\n", …) for the real one:
// the receiving half of an SMTP smuggling variant (the smtp.data.*
// end-of-data variant checks). The octets up to and with seq are judged
// as the message, as if CRLF.CRLF had followed.
func EndOfData(seq string) *Fault {
	return reading(func(c *conn) ([]byte, error) { return readToEnd(c.cr, seq) })
}
