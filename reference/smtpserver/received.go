package smtpserver

import (
	"net"
	"strings"
	"time"
)

// receivedHeader builds the trace header the server prepends (RFC 5321
// §4.4), with the protocol name RFC 3848 registers for how the message came:
// ESMTP, plus S for TLS and A for an authenticated client.
func (s *session) receivedHeader(id string) []byte {
	with := "SMTP"
	if s.info.ESMTP {
		with = "ESMTP"
		if s.info.TLS {
			with += "S"
		}
		if s.info.User != "" {
			with += "A"
		}
	}
	ip := "unknown"
	if tcp, ok := s.info.RemoteAddr.(*net.TCPAddr); ok {
		if tcp.IP.To4() != nil {
			ip = tcp.IP.String()
		} else {
			ip = "IPv6:" + tcp.IP.String()
		}
	}
	var b strings.Builder
	b.WriteString("Received: from ")
	b.WriteString(s.info.Helo)
	b.WriteString(" ([")
	b.WriteString(ip)
	b.WriteString("])\r\n\tby ")
	b.WriteString(s.srv.opts.Hostname)
	b.WriteString(" (mailcheck) with ")
	b.WriteString(with)
	b.WriteString(" id ")
	b.WriteString(id)
	if len(s.rcpts) == 1 {
		// RFC 5321 §4.4: "for" names the recipient only when there is one.
		b.WriteString("\r\n\tfor <")
		b.WriteString(s.rcpts[0])
		b.WriteString(">")
	}
	b.WriteString(";\r\n\t")
	b.WriteString(time.Now().Format(time.RFC1123Z))
	b.WriteString("\r\n")
	return []byte(b.String())
}
