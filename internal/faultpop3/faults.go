package faultpop3

import (
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/reference/pop3server"
)

// The faults, each named after what the server does wrong and documented
// with the check(s) it exists for. Where the reference server's words
// matter ("no such message", "maildrop has n messages"), a fault reads
// them as that server writes them.

// Greeting replaces the whole greeting line with text (pop3.greeting.ok).
func Greeting(text string) *Fault {
	return &Fault{response: func(_ *session, c *command, r *response) {
		if c.greeting {
			r.status = text + "\r\n"
		}
	}}
}

// LowerCaseStatus sends "+ok"/"-err" (pop3.status.case).
var LowerCaseStatus = &Fault{response: func(_ *session, _ *command, r *response) {
	for _, ind := range []string{"+OK", "-ERR"} {
		if rest, ok := strings.CutPrefix(r.status, ind); ok {
			r.status = strings.ToLower(ind) + rest
		}
	}
}}

// CAPAUnterminated leaves the CAPA listing without its "." line
// (pop3.multiline.terminated).
var CAPAUnterminated = &Fault{response: func(_ *session, c *command, r *response) {
	if c.verb == "CAPA" {
		r.unterminated = true
	}
}}

// NoByteStuffing sends the lines of a message that start with "." as
// they are (pop3.retr.byte-stuffing, pop3.top.byte-stuffing).
var NoByteStuffing = &Fault{response: func(_ *session, c *command, r *response) {
	if c.verb != "RETR" && c.verb != "TOP" {
		return
	}
	for i, l := range r.body {
		// The server stuffed every line that starts with ".".
		r.body[i] = strings.TrimPrefix(l, ".")
	}
}}

// STATBeforeLogin answers STAT in AUTHORIZATION, with no maildrop open
// (pop3.state.stat-before-login).
var STATBeforeLogin = &Fault{command: func(s *session, c *command) {
	if c.verb == "STAT" && len(c.args) == 0 && s.state == authorization {
		c.answer("+OK 0 0\r\n")
	}
}}

// USERAfterLogin answers USER in TRANSACTION
// (pop3.state.user-after-login).
var USERAfterLogin = &Fault{command: func(s *session, c *command) {
	if c.verb == "USER" && len(c.args) == 1 && s.state == transaction {
		c.answer("+OK send PASS\r\n")
	}
}}

// STLSInTransaction accepts STLS in TRANSACTION and does the handshake
// (pop3.stls.in-transaction).
var STLSInTransaction = &Fault{command: func(s *session, c *command) {
	if c.verb == "STLS" && len(c.args) == 0 && s.state == transaction && s.srv.tls != nil {
		c.answer("+OK Begin TLS negotiation\r\n")
		c.startTLS = true
	}
}}

// STLSStillOffered lists STLS in CAPA after the TLS handshake
// (pop3.stls.capa-after): the proxy does the handshake with the client
// itself and talks to the server in plain text, which offers STLS still.
var STLSStillOffered = &Fault{command: func(s *session, c *command) {
	if c.verb != "STLS" || len(c.args) != 0 || s.state != authorization || s.srv.tls == nil {
		return
	}
	if s.tls {
		c.answer("-ERR Command not permitted when TLS active\r\n")
		return
	}
	c.answer("+OK Begin TLS negotiation\r\n")
	c.startTLS = true
}}

// CloseAfterFailedLogin hangs up after refusing a PASS: allowed (RFC 1939
// §4), so it fails no check; pop3.auth.failure-stays must pass saying so.
var CloseAfterFailedLogin = &Fault{response: func(_ *session, c *command, r *response) {
	if c.verb == "PASS" && strings.HasPrefix(r.status, "-ERR [AUTH] Authentication failed") {
		r.closeAfter = true
	}
}}

// AcceptAnyPassword logs in with any password (pop3.auth.wrong-password).
var AcceptAnyPassword = &Fault{wrap: func(b pop3server.Backend, srv *server) pop3server.Backend {
	return acceptingBackend{Backend: b, logins: &srv.logins}
}}

// FailedLoginEntersTransaction opens the maildrop after refusing a wrong
// PASS: the -ERR is sent, yet the session is in TRANSACTION
// (pop3.auth.failure-stays).
var FailedLoginEntersTransaction = &Fault{
	wrap: AcceptAnyPassword.wrap,
	response: func(s *session, c *command, r *response) {
		if c.verb == "PASS" && r.ok() && s.srv.logins.wasRefused(s.userArg, c.arg) {
			r.status = "-ERR [AUTH] Authentication failed\r\n"
		}
	},
}

// QUITBeforeLoginErr answers QUIT in AUTHORIZATION -ERR (and hangs up,
// as after any QUIT) (pop3.quit.before-login).
var QUITBeforeLoginErr = &Fault{response: func(s *session, c *command, r *response) {
	if c.verb == "QUIT" && s.state == authorization && r.ok() {
		r.status = "-ERR not logged in\r\n"
	}
}}

// STATExtraText adds words to STAT (pop3.stat.syntax).
var STATExtraText = &Fault{response: func(_ *session, c *command, r *response) {
	if c.verb == "STAT" && r.ok() {
		r.status = strings.TrimRight(r.status, "\r\n") + " messages\r\n"
	}
}}

// STATSizeOff reports one octet too many in STAT (pop3.stat.agrees-list).
var STATSizeOff = &Fault{response: func(_ *session, c *command, r *response) {
	if c.verb == "STAT" && r.ok() {
		r.status = "+OK " + addToSecond(r.text(), 1) + "\r\n"
	}
}}

// LISTSizeOff reports one octet too many in the scan listing of LIST msg
// (pop3.list.matches-retr); the full listing stays right, so STAT and
// LIST still agree (pop3.stat.agrees-list has STATSizeOff).
var LISTSizeOff = &Fault{response: func(_ *session, c *command, r *response) {
	if c.verb == "LIST" && len(c.args) == 1 && r.ok() {
		r.status = "+OK " + addToSecond(r.text(), 1) + "\r\n"
	}
}}

// MissingMessageOK answers a command on a message that does not exist
// +OK (pop3.list.missing, pop3.retr.missing, pop3.dele.missing).
var MissingMessageOK = &Fault{response: func(_ *session, c *command, r *response) {
	if takesMessage(c.verb) && r.status == "-ERR no such message\r\n" {
		r.status = "+OK\r\n"
	}
}}

// DeletedStillListed keeps marked messages in STAT, LIST and RETR
// (pop3.dele.marks): the proxy keeps the marks itself, answering DELE
// after a LIST of the message, and sends the server the DELEs just
// before QUIT.
var DeletedStillListed = &Fault{
	command: func(s *session, c *command) {
		switch {
		case s.state != transaction:
		case c.verb == "DELE" && len(c.args) == 1:
			c.rewrite("LIST", c.args[0])
		case c.verb == "QUIT":
			for _, n := range s.markedNumbers() {
				c.before = append(c.before, "DELE "+strconv.Itoa(n)+"\r\n")
			}
		}
	},
	response: func(s *session, c *command, r *response) {
		switch {
		case !r.ok():
		case c.verb == "DELE":
			n := firstNumber(r.text())
			s.mark(n)
			r.status = "+OK message " + strconv.Itoa(n) + " deleted\r\n"
		case c.verb == "RSET":
			clear(s.marked)
		case c.verb == "UIDL" && len(c.args) == 0:
			// UIDL alone leaves the marked messages out.
			var kept []string
			for _, l := range r.body {
				if !s.marked[firstNumber(l)] {
					kept = append(kept, l)
				}
			}
			r.body = kept
		}
	},
}

// RenumberAfterDELE numbers the remaining messages 1..n after a DELE
// (pop3.dele.numbers-stable): in what the server says and in what the
// client asks for.
var RenumberAfterDELE = &Fault{
	command: func(s *session, c *command) {
		if s.state == transaction && takesMessage(c.verb) && len(c.args) > 0 {
			if n, err := strconv.Atoi(c.args[0]); err == nil && n > 0 {
				c.args[0] = strconv.Itoa(s.renumbered(n))
				c.rewrite(c.verb, c.args...)
			}
		}
	},
	response: func(s *session, c *command, r *response) {
		switch {
		case !r.ok():
		case c.verb == "RSET":
			clear(s.marked)
		case c.verb == "DELE":
			real := firstNumber(c.args[0])
			s.mark(real)
			r.status = "+OK message " + strconv.Itoa(s.number(real)) + " deleted\r\n"
		case (c.verb == "LIST" || c.verb == "UIDL") && len(c.args) == 1:
			r.status = "+OK " + s.renumberLine(r.text()) + "\r\n"
		case c.verb == "LIST" || c.verb == "UIDL":
			for i, l := range r.body {
				r.body[i] = s.renumberLine(strings.TrimRight(l, "\r\n")) + "\r\n"
			}
		}
	},
}

// RSETKeepsMarks does not unmark (pop3.rset.unmarks): the server gets
// STAT in place of RSET, and the client RSET's answer with its counts.
var RSETKeepsMarks = &Fault{
	command: func(s *session, c *command) {
		if c.verb == "RSET" && len(c.args) == 0 && s.state == transaction {
			c.rewrite("STAT")
		}
	},
	response: func(s *session, c *command, r *response) {
		if c.verb == "RSET" && r.ok() && s.state == transaction {
			n, octets, _ := strings.Cut(r.text(), " ")
			r.status = "+OK maildrop has " + n + " messages (" + octets + " octets)\r\n"
		}
	},
}

// DeleteOnDELE removes a message at DELE, not in UPDATE
// (pop3.update.drop-keeps).
var DeleteOnDELE = &Fault{
	wrap: func(b pop3server.Backend, srv *server) pop3server.Backend {
		return trackingBackend{Backend: b, logins: &srv.logins}
	},
	response: func(s *session, c *command, r *response) {
		if c.verb == "DELE" && r.ok() && len(c.args) == 1 {
			s.srv.logins.deleteNow(s.login, firstNumber(c.args[0]))
		}
	},
}

// QUITKeepsMarked removes nothing at QUIT (pop3.update.quit-deletes,
// pop3.mode.download-and-delete): the server gets RSET before the QUIT.
var QUITKeepsMarked = &Fault{command: func(s *session, c *command) {
	if c.verb == "QUIT" && s.state == transaction {
		c.before = append(c.before, "RSET\r\n")
	}
}}

// UIDLWithSpace sends unique-ids with a space in them (pop3.uidl.syntax).
var UIDLWithSpace = uidls(func(_ *session, uid string) string { return "id " + uid })

// UIDLSame gives every message the same unique-id (pop3.uidl.unique).
var UIDLSame = uidls(func(*session, string) string { return "same-id" })

// UIDLPerSession changes the unique-ids in every session
// (pop3.uidl.stable).
var UIDLPerSession = uidls(func(s *session, uid string) string { return strconv.Itoa(s.id) + "-" + uid })

// TOPWholeMessage ignores TOP's line count (pop3.top.lines).
var TOPWholeMessage = &Fault{command: func(s *session, c *command) {
	if c.verb == "TOP" && len(c.args) == 2 && digits(c.args[1]) {
		c.rewrite("TOP", c.args[0], "9223372036854775807")
	}
}}

// NoLock lets two sessions open one maildrop (pop3.lock.exclusive).
var NoLock = &Fault{wrap: func(b pop3server.Backend, srv *server) pop3server.Backend {
	return aliasingBackend{Backend: b, logins: &srv.logins}
}}

// InUseWithoutCode refuses a locked maildrop without [IN-USE]
// (pop3.lock.in-use-code).
var InUseWithoutCode = &Fault{response: func(_ *session, c *command, r *response) {
	if c.verb == "PASS" {
		r.status = strings.Replace(r.status, "-ERR [IN-USE] ", "-ERR ", 1)
	}
}}

// CAPAOnlyBeforeLogin refuses CAPA in TRANSACTION (pop3.capa.both-states).
var CAPAOnlyBeforeLogin = &Fault{command: func(s *session, c *command) {
	if c.verb == "CAPA" && s.state == transaction {
		c.answer("-ERR CAPA not available now\r\n")
	}
}}

// DropPipelinedInput throws away input buffered behind each command
// (pop3.pipelining.order).
var DropPipelinedInput = &Fault{dropPipelined: true}

// RETRMarksDeleted marks every retrieved message deleted
// (pop3.mode.download-and-keep).
var RETRMarksDeleted = &Fault{command: func(s *session, c *command) {
	if c.verb == "RETR" && len(c.args) == 1 && s.state == transaction {
		c.after = append(c.after, "DELE "+c.args[0]+"\r\n")
	}
}}

// NOOPErr answers NOOP -ERR (pop3.noop.ok).
var NOOPErr = &Fault{response: func(_ *session, c *command, r *response) {
	if c.verb == "NOOP" && r.ok() {
		r.status = "-ERR NOOP failed\r\n"
	}
}}

// CAPAMisspelled lists RESP-CODES as "RESP_CODES" (pop3.capa.syntax;
// pop3.lock.in-use-code then calls RESP-CODES malformed).
var CAPAMisspelled = &Fault{response: func(_ *session, c *command, r *response) {
	if c.verb == "CAPA" {
		for i, l := range r.body {
			if l == "RESP-CODES\r\n" {
				r.body[i] = "RESP_CODES\r\n"
			}
		}
	}
}}

// CAPAExtraLine adds line to the CAPA listing, to show the suite reads
// arguments against the grammar ("LOGIN-DELAY soon").
func CAPAExtraLine(line string) *Fault {
	return &Fault{response: func(_ *session, c *command, r *response) {
		if c.verb == "CAPA" && r.ok() {
			r.body = append(r.body, line+"\r\n")
		}
	}}
}

// RespCodeAfterText moves every response code after the text: "-ERR
// Maildrop already locked [IN-USE]" (pop3.resp-codes.syntax).
var RespCodeAfterText = &Fault{response: func(_ *session, _ *command, r *response) {
	indicator, text, ok := strings.Cut(strings.TrimRight(r.status, "\r\n"), " ")
	if !ok || !strings.HasPrefix(text, "[") {
		return
	}
	if code, rest, ok := strings.Cut(text, "] "); ok {
		r.status = indicator + " " + rest + " " + code + "]\r\n"
	}
}}

// RETRAppendsCRLF adds an empty line at the end of every message RETR
// sends, as a read-back server that alters messages does
// (pop3.list.matches-retr, e2e.pop3.byte-identical).
var RETRAppendsCRLF = &Fault{response: func(_ *session, c *command, r *response) {
	if c.verb == "RETR" && r.ok() {
		r.body = append(r.body, "\r\n")
	}
}}
