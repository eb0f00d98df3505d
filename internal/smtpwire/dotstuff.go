// Package smtpwire holds the dot stuffing of SMTP DATA content (RFC 5321
// §4.5.2) that the clients share. It is internal: no public API takes or
// returns its types.
package smtpwire

// AppendDotStuffed appends msg to dst as DATA content (RFC 5321 §4.5.2):
// every line that begins with "." gets one more, a message that does not end
// in CRLF gets one, and the terminating ".\r\n" follows. msg must already
// use CRLF line ends.
func AppendDotStuffed(dst, msg []byte) []byte {
	atLineStart := true
	start := 0
	for i := 0; i < len(msg); i++ {
		if atLineStart && msg[i] == '.' {
			dst = append(dst, msg[start:i]...)
			dst = append(dst, '.')
			start = i
		}
		atLineStart = msg[i] == '\n'
	}
	dst = append(dst, msg[start:]...)
	if len(msg) > 0 && !(len(msg) >= 2 && msg[len(msg)-2] == '\r' && msg[len(msg)-1] == '\n') {
		dst = append(dst, '\r', '\n')
	}
	return append(dst, '.', '\r', '\n')
}
