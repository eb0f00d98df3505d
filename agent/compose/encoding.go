package compose

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"mime"
)

// maxLineOctets is the longest line RFC 5322 §2.1.1 allows, CRLF not
// counted; SMTP (RFC 5321 §4.5.3.1.6) takes 1000 with it.
const maxLineOctets = 998

// textPart chooses the Content-Type and Content-Transfer-Encoding of the
// text (RFC 2045 §6): 7bit when it is ASCII in lines of at most 998
// octets; 8bit when it is not ASCII but the transport carries 8-bit data
// (8BITMIME, RFC 6152); quoted-printable otherwise (long lines, NUL, a
// bare CR, 8-bit text over a 7-bit transport), which any transport keeps
// intact. body has CRLF line ends.
func textPart(body []byte, eightBit bool) (contentType, encoding string) {
	ascii, clean := true, true
	lineLen := 0
	for i, c := range body {
		switch {
		case c == '\n':
			lineLen = 0
			continue
		case c == '\r':
			if i+1 >= len(body) || body[i+1] != '\n' {
				clean = false
			}
			continue
		case c == 0:
			clean = false
		case c >= 0x80:
			ascii = false
		}
		lineLen++
		if lineLen > maxLineOctets {
			clean = false
		}
	}
	charset := "utf-8"
	if ascii {
		charset = "us-ascii"
	}
	contentType = mime.FormatMediaType("text/plain", map[string]string{"charset": charset})
	switch {
	case clean && ascii:
		return contentType, "7bit"
	case clean && eightBit:
		return contentType, "8bit"
	}
	return contentType, "quoted-printable"
}

// encodeText encodes an unstructured header value with RFC 2047 encoded
// words when it is not ASCII.
func encodeText(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			return mime.QEncoding.Encode("utf-8", v)
		}
	}
	return v
}

// newBoundary returns a multipart boundary (RFC 2046 §5.1.1) that random
// content will not contain.
func newBoundary() string {
	var b [18]byte
	rand.Read(b[:])
	return "mailcheck-" + hex.EncodeToString(b[:])
}

// CRLF converts every line end (CRLF, LF, a lone CR) to CRLF, the line end
// of RFC 5322 §2.1 and of SMTP DATA.
func CRLF(b []byte) []byte {
	out := make([]byte, 0, len(b)+bytes.Count(b, []byte("\n"))+2)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
			out = append(out, '\r', '\n')
			i++
		case c == '\r' || c == '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, c)
		}
	}
	return out
}
