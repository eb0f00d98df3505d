package faultsmtp

import (
	"fmt"
	"strings"

	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
)

// Faults in how commands are taken (RFC 5321 §4.1).

// answering is a fault that answers a command itself when when says so.
func answering(when func(c *conn, cmd *command) bool, code int, text string) *Fault {
	return &Fault{command: func(c *conn, cmd *command) bool {
		if !when(c, cmd) {
			return false
		}
		c.answer(cmd, code, text)
		return true
	}}
}

// validHello reports an EHLO or HELO argument the server takes (RFC 5321
// §4.1.1.1: a domain or an address literal).
func validHello(arg string) bool {
	return arg != "" && !strings.ContainsAny(arg, " \t") && (smtpaddr.IsDomain(arg) || smtpaddr.IsAddressLiteral(arg))
}

// hello reports a proper EHLO (or HELO) with an argument the server takes.
func hello(cmd *command, verb string) bool { return cmd.is(verb) && validHello(cmd.arg) }

// RefuseEHLO answers EHLO 502 (smtp.ehlo.accepted).
var RefuseEHLO = answering(func(_ *conn, cmd *command) bool { return hello(cmd, "EHLO") }, 502, "5.5.1 EHLO not implemented")

// RefuseHELO answers HELO 502 (smtp.helo.accepted).
var RefuseHELO = answering(func(_ *conn, cmd *command) bool { return hello(cmd, "HELO") }, 502, "5.5.1 HELO not implemented")

// RefuseSecondEHLO answers an EHLO after an accepted one 503. That is
// allowed (RFC 5321 §4.1.4 resets the session only when a later EHLO is
// acceptable), so no check may fail for it.
var RefuseSecondEHLO = answering(func(c *conn, cmd *command) bool { return hello(cmd, "EHLO") && c.esmtp },
	503, "5.5.1 Bad sequence of commands: EHLO already accepted")

// CaseSensitiveVerbs knows only upper-case verbs
// (smtp.command.case-insensitive).
var CaseSensitiveVerbs = answering(func(_ *conn, cmd *command) bool {
	return cmd.kind == kindCommand && cmd.proper() && cmd.rawVerb != cmd.verb
}, 500, "5.5.2 Syntax error, command unrecognized")

// NOOPMissing answers NOOP 502 (smtp.noop.ok).
var NOOPMissing = answering(func(_ *conn, cmd *command) bool { return cmd.is("NOOP") }, 502, "5.5.1 NOOP not implemented")

// RSETMissing answers RSET 502 (smtp.rset.ok).
var RSETMissing = answering(func(_ *conn, cmd *command) bool { return cmd.is("RSET") && !cmd.hasArgs }, 502, "5.5.1 RSET not implemented")

// VRFYMissing answers VRFY 502 (smtp.vrfy.implemented).
var VRFYMissing = answering(func(_ *conn, cmd *command) bool { return cmd.is("VRFY") && cmd.arg != "" }, 502, "5.5.1 VRFY not implemented")

// RefuseNOOPArguments answers NOOP with an argument 500. That is allowed
// (RFC 5321 §4.1.1.9 only says the argument is ignored, if given), so no
// check may fail for it.
var RefuseNOOPArguments = answering(func(_ *conn, cmd *command) bool { return cmd.is("NOOP") && cmd.hasArgs },
	500, "5.5.2 Syntax error: NOOP takes no arguments here")

// QUITStaysOpen answers QUIT 221 and keeps the connection
// (smtp.quit.closes).
var QUITStaysOpen = &Fault{command: func(c *conn, cmd *command) bool {
	if !cmd.is("QUIT") || cmd.hasArgs {
		return false
	}
	c.answer(cmd, 221, "2.0.0 "+c.host+" Service closing transmission channel")
	return true
}}

// MaxCommandLine refuses command lines over n octets, CRLF included,
// below the RFC 5321 §4.5.3.1.4 minimum of 512 when n is
// (smtp.limit.command-line-512). MAIL keeps its own, longer limit.
func MaxCommandLine(n int) *Fault {
	return answering(func(_ *conn, cmd *command) bool {
		return cmd.kind == kindCommand && cmd.proper() && cmd.verb != "MAIL" && len(cmd.line) > n
	}, 500, fmt.Sprintf("5.5.2 Line too long (the limit is %d octets, RFC 5321 section 4.5.3.1.4)", n))
}

// Accept8BitCommands takes 8-bit octets in commands: the server gets
// each as "x" (smtp.command.8bit). RCPT keeps its refusal of a non-ASCII
// address.
var Accept8BitCommands = &Fault{command: func(_ *conn, cmd *command) bool {
	text, ok := strings.CutSuffix(cmd.line, "\r\n")
	if cmd.kind != kindCommand || cmd.verb == "RCPT" || !ok {
		return false
	}
	ascii := []byte(text)
	for i, b := range ascii {
		if b >= 0x80 {
			ascii[i] = 'x'
		}
	}
	cmd.setLine(string(ascii))
	return false
}}
