package smtpserver

import (
	"errors"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// cmdHello handles EHLO and HELO (RFC 5321 §4.1.1.1). Either one resets a
// transaction in progress (§4.1.4).
func (s *session) cmdHello(arg string, esmtp bool) {
	verb := "HELO"
	if esmtp {
		verb = "EHLO"
	}
	if arg == "" || strings.ContainsAny(arg, " \t") || !(smtpaddr.IsDomain(arg) || smtpaddr.IsAddressLiteral(arg)) {
		s.reply(501, "5.5.4", "Syntax: %s domain-or-address-literal", verb)
		return
	}
	s.resetTransaction()
	s.state = stateReady
	s.info.Helo = arg
	s.info.ESMTP = esmtp
	host := s.srv.opts.Hostname
	if !esmtp {
		s.w.WriteString("250 " + host + "\r\n")
		return
	}
	lines := []string{host + " greets " + arg, "PIPELINING", "SIZE " + strconv.FormatInt(s.srv.opts.MaxMessageBytes, 10), "8BITMIME", "ENHANCEDSTATUSCODES"}
	if s.srv.opts.TLSConfig != nil && !s.info.TLS {
		lines = append(lines, "STARTTLS")
	}
	if s.authOffered() && s.info.User == "" {
		lines = append(lines, "AUTH PLAIN LOGIN")
	}
	lines = append(lines, "HELP")
	s.writeReply(&smtpreply.Reply{Code: 250, Lines: lines})
}

// cmdMail handles MAIL FROM:<reverse-path> [params] (RFC 5321 §4.1.1.2).
func (s *session) cmdMail(arg string) {
	switch {
	case s.state == stateConnected:
		s.reply(503, "5.5.1", "Bad sequence of commands: send EHLO or HELO first")
		return
	case s.state >= stateMail:
		s.reply(503, "5.5.1", "Bad sequence of commands: nested MAIL command")
		return
	}
	rest, ok := cutPrefixFold(arg, "FROM:")
	if !ok {
		s.reply(501, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]")
		return
	}
	if strings.HasPrefix(rest, " ") {
		// RFC 5321 §3.3: no space on either side of the colon.
		s.reply(501, "5.5.4", "Syntax: MAIL FROM:<address> with no space after the colon (RFC 5321 section 3.3)")
		return
	}
	mb, null, params, err := smtpaddr.ParsePath(rest)
	if err != nil {
		s.replyPathError(err, "5.1.7", "sender")
		return
	}
	p, perr := parseParams(params)
	if perr != nil {
		s.writeReply(perr)
		return
	}
	if len(p) > 0 && !s.info.ESMTP {
		// RFC 5321 §4.1.1.11: parameters need EHLO.
		s.reply(555, "5.5.4", "MAIL parameters need EHLO")
		return
	}
	body8 := false
	for _, kv := range p {
		switch kv.key {
		case "SIZE":
			// RFC 1870 §3: size-value is 1*20DIGIT, which can exceed an
			// int64; RFC 1870 §6: a declared size over the limit gets 552
			// at MAIL, however large.
			if !isSizeValue(kv.value) {
				s.reply(501, "5.5.4", "Syntax: SIZE=<octets>")
				return
			}
			n, err := strconv.ParseInt(kv.value, 10, 64)
			if err != nil || n > s.srv.opts.MaxMessageBytes {
				s.reply(552, "5.3.4", "Message size exceeds fixed maximum message size (%d octets)", s.srv.opts.MaxMessageBytes)
				return
			}
		case "BODY":
			switch strings.ToUpper(kv.value) {
			case "7BIT":
			case "8BITMIME":
				body8 = true
			default:
				s.reply(501, "5.5.4", "Syntax: BODY=7BIT or BODY=8BITMIME (RFC 6152)")
				return
			}
		case "AUTH":
			// RFC 4954 §5: accepted; the reference trusts no asserted
			// identity, so it is recorded nowhere.
			if kv.value == "" {
				s.reply(501, "5.5.4", "Syntax: AUTH=<xtext>")
				return
			}
		default:
			s.reply(555, "5.5.4", "MAIL parameter %s not recognized or not implemented", kv.key)
			return
		}
	}
	s.from = ""
	if !null {
		s.from = mb.String()
	}
	s.body8BitMIME = body8
	s.state = stateMail
	// A transaction is open until DATA is answered or it is reset:
	// Shutdown lets it finish (resetTransaction clears this).
	s.conn.SetBusy(true)
	s.reply(250, "2.1.0", "Originator <%s> OK", s.from)
}

// cmdRcpt handles RCPT TO:<forward-path> (RFC 5321 §4.1.1.3).
func (s *session) cmdRcpt(arg string) {
	if s.state < stateMail {
		s.reply(503, "5.5.1", "Bad sequence of commands: need MAIL before RCPT")
		return
	}
	rest, ok := cutPrefixFold(arg, "TO:")
	if !ok {
		s.reply(501, "5.5.4", "Syntax: RCPT TO:<address>")
		return
	}
	if strings.HasPrefix(rest, " ") {
		s.reply(501, "5.5.4", "Syntax: RCPT TO:<address> with no space after the colon (RFC 5321 section 3.3)")
		return
	}
	var mb smtpaddr.Mailbox
	var params string
	if p, ok := cutPrefixFold(rest, "<postmaster>"); ok {
		// RFC 5321 §4.5.1: <Postmaster> with no domain must be accepted.
		mb, params = smtpaddr.Mailbox{Local: "postmaster"}, p
	} else {
		var null bool
		var err error
		mb, null, params, err = smtpaddr.ParsePath(rest)
		if err == nil && null {
			err = smtpaddr.ErrPathSyntax
		}
		if err != nil {
			s.replyPathError(err, "5.1.3", "recipient")
			return
		}
	}
	p, perr := parseParams(params)
	if perr != nil {
		s.writeReply(perr)
		return
	}
	if len(p) > 0 {
		s.reply(555, "5.5.4", "RCPT parameter %s not recognized or not implemented", p[0].key)
		return
	}
	if len(s.rcpts) >= s.srv.opts.MaxRecipients {
		s.reply(452, "4.5.3", "Too many recipients (at most %d per message)", s.srv.opts.MaxRecipients)
		return
	}
	if err := s.srv.backend.Recipient(s.ctx, &s.info, mb); err != nil {
		s.replyError(err, "recipient check")
		return
	}
	addr := mb.String()
	if mb.Domain == "" {
		addr = mb.Local
	}
	s.rcpts = append(s.rcpts, addr)
	s.state = stateRcpt
	s.reply(250, "2.1.5", "Recipient <%s> OK", addr)
}

func (s *session) replyPathError(err error, enhanced, who string) {
	switch {
	case errors.Is(err, smtpaddr.ErrNonASCII):
		// RFC 6531 §3.7.1 (no SMTPUTF8 here): 553 5.6.7.
		s.reply(553, "5.6.7", "Non-ASCII %s address requires SMTPUTF8, which is not offered", who)
	case errors.Is(err, smtpaddr.ErrPathLength):
		s.reply(501, enhanced, "Bad %s address: too long (RFC 5321 section 4.5.3.1)", who)
	default:
		s.reply(501, enhanced, "Bad %s address syntax (RFC 5321 section 4.1.2)", who)
	}
}

// cmdRset handles RSET (RFC 5321 §4.1.1.5).
func (s *session) cmdRset(hasArgs bool) {
	if hasArgs {
		s.reply(501, "5.5.4", "Syntax: RSET (no arguments)")
		return
	}
	s.resetTransaction()
	s.reply(250, "2.0.0", "Reset OK")
}

// cmdVrfy answers 252 (RFC 5321 §3.5.3): the reference does not disclose
// which users exist.
func (s *session) cmdVrfy(arg string) {
	if arg == "" {
		s.reply(501, "5.5.4", "Syntax: VRFY <string>")
		return
	}
	s.reply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery")
}

func (s *session) cmdHelp() {
	s.writeReply(&smtpreply.Reply{Code: 214, Enhanced: "2.0.0", Lines: []string{
		"mailcheck reference server. Commands:",
		"EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH",
		"See RFC 5321.",
	}})
}

// cmdStartTLS handles STARTTLS (RFC 3207). It reports whether the session
// is over (a failed handshake ends it).
func (s *session) cmdStartTLS(hasArgs bool) (quit bool) {
	switch {
	case s.srv.opts.TLSConfig == nil:
		s.reply(502, "5.5.1", "STARTTLS not available")
		return false
	case hasArgs:
		s.reply(501, "5.5.4", "Syntax: STARTTLS (no arguments)")
		return false
	case s.info.TLS:
		s.reply(503, "5.5.1", "TLS already active")
		return false
	case s.state == stateConnected:
		s.reply(503, "5.5.1", "Bad sequence of commands: send EHLO first")
		return false
	case s.state >= stateMail:
		s.reply(503, "5.5.1", "Bad sequence of commands: STARTTLS inside a transaction")
		return false
	}
	s.reply(220, "2.0.0", "Ready to start TLS")
	if !s.startTLS() {
		return true
	}
	// RFC 3207 §4.2: forget everything learned before TLS.
	s.resetTransaction()
	s.state = stateConnected
	s.info.Helo, s.info.ESMTP, s.info.User = "", false, ""
	return false
}

// startTLS switches the session to TLS; lineserver drops any plaintext
// pipelined after STARTTLS (RFC 3207 §5). It reports whether the session
// can go on.
func (s *session) startTLS() bool {
	if s.conn.StartTLS(s.srv.opts.TLSConfig) != nil {
		return false
	}
	s.info.TLS = true
	return true
}

// cutPrefixFold is strings.CutPrefix, ignoring ASCII case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

type param struct{ key, value string }

// parseParams parses " KEY[=value]" parameters after a path (RFC 5321
// §4.1.2 Mail-parameters). Keys are upper-cased; a repeated key is an error.
func parseParams(s string) ([]param, *smtpreply.Reply) {
	if s == "" {
		return nil, nil
	}
	if s[0] != ' ' {
		return nil, smtpreply.NewReply(501, "5.5.4", "Syntax: a space must separate the path from parameters")
	}
	var out []param
	for _, field := range strings.Split(s[1:], " ") {
		key, value, hasValue := strings.Cut(field, "=")
		if key == "" || (hasValue && !isParamValue(value)) || !isKeyword(key) {
			return nil, smtpreply.NewReply(501, "5.5.4", "Syntax error in parameter %q", field)
		}
		key = strings.ToUpper(key)
		for _, p := range out {
			if p.key == key {
				return nil, smtpreply.NewReply(501, "5.5.4", "Parameter %s given twice", key)
			}
		}
		out = append(out, param{key, value})
	}
	return out, nil
}

// isSizeValue reports RFC 1870 §3 size-value syntax: 1*20DIGIT.
func isSizeValue(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isKeyword reports esmtp-keyword syntax: (ALPHA / DIGIT) *(ALPHA / DIGIT / "-").
func isKeyword(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' && i > 0) {
			return false
		}
	}
	return true
}

// isParamValue reports esmtp-value syntax: 1*(%d33-60 / %d62-126).
func isParamValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 33 || c > 126 || c == '=' {
			return false
		}
	}
	return s != ""
}
