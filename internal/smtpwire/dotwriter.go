package smtpwire

import "io"

// DotWriter writes message content as an SMTP DATA block (RFC 5321
// §4.5.2): every line that starts with "." gets one more in front, and
// Close ends the block with ".\r\n" (after a CRLF, if the content did not
// end with one). It tracks line starts across writes, so the message may be
// split into chunks anywhere. The stuffing exists on the wire only: the
// receiver removes it and sees the content byte for byte.
type DotWriter struct {
	w           io.Writer
	atLineStart bool
	// endsInCRLF reports whether the content written so far ends in CRLF;
	// lastCR remembers a CR at the very end of the previous write.
	endsInCRLF, lastCR bool
	written            int64
}

// NewDotWriter returns a DotWriter that writes the DATA block to w.
func NewDotWriter(w io.Writer) *DotWriter {
	return &DotWriter{w: w, atLineStart: true}
}

var extraDot = []byte{'.'}

func (d *DotWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	start := 0
	for i, b := range p {
		if d.atLineStart && b == '.' {
			if _, err := d.w.Write(p[start:i]); err != nil {
				return 0, err
			}
			if _, err := d.w.Write(extraDot); err != nil {
				return 0, err
			}
			start = i
		}
		// A line starts after LF; the content is CRLF-terminated, and a
		// bare LF is treated like a line end because many receivers do.
		d.atLineStart = b == '\n'
	}
	if _, err := d.w.Write(p[start:]); err != nil {
		return 0, err
	}
	n := len(p)
	switch {
	case n >= 2:
		d.endsInCRLF = p[n-2] == '\r' && p[n-1] == '\n'
	default:
		d.endsInCRLF = d.lastCR && p[0] == '\n'
	}
	d.lastCR = p[n-1] == '\r'
	d.written += int64(n)
	return n, nil
}

// NeedsCRLF reports whether the content written so far does not end in
// CRLF: the end of the block must then start with one (RFC 5321 §4.1.1.4).
func (d *DotWriter) NeedsCRLF() bool { return d.written > 0 && !d.endsInCRLF }

// Close writes the end of the DATA block; it does not close the underlying
// writer.
func (d *DotWriter) Close() error {
	if d.NeedsCRLF() {
		if _, err := d.w.Write([]byte("\r\n")); err != nil {
			return err
		}
	}
	_, err := d.w.Write([]byte(".\r\n"))
	return err
}
