package faultsmtp

import (
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
)

// Faults in the command sequence and the transaction (RFC 5321 §3.3,
// §4.1.4).

// RcptWithoutMail takes RCPT before MAIL (smtp.sequence.rcpt-before-mail):
// the server gets an unseen MAIL FROM:<> first.
var RcptWithoutMail = &Fault{command: func(c *conn, cmd *command) bool {
	if !cmd.is("RCPT") || c.state != ready {
		return false
	}
	if r, err := c.hidden("MAIL FROM:<>"); err != nil || r.code != 250 {
		cmd.err = err
		return err != nil
	}
	r, err := c.roundTrip(cmd)
	if err != nil {
		cmd.err = err
		return true
	}
	if c.state != rcptGiven {
		// Refused: no transaction was open, so none stays open.
		_, cmd.err = c.hidden("RSET")
	}
	c.send(cmd, r)
	return true
}}

// DataWithoutRcpt answers DATA with no recipient 354, reads the message
// and answers 250, delivering it nowhere (smtp.sequence.data-before-rcpt).
var DataWithoutRcpt = &Fault{command: func(c *conn, cmd *command) bool {
	if !cmd.is("DATA") || cmd.hasArgs || c.state != mailGiven {
		return false
	}
	c.answer(cmd, 354, "End data with <CR><LF>.<CR><LF>")
	if _, cmd.err = c.readMessage(); cmd.err != nil {
		return true
	}
	c.answer(&command{kind: kindDataEnd}, 250, "2.0.0 OK: queued nowhere, no recipient")
	_, cmd.err = c.hidden("RSET")
	return true
}}

// RSETKeeps answers RSET 250 and keeps the transaction
// (smtp.sequence.rset-clears).
var RSETKeeps = answering(func(_ *conn, cmd *command) bool { return cmd.is("RSET") && !cmd.hasArgs }, 250, "2.0.0 Reset OK")

// NOOPResets resets the transaction on NOOP (smtp.sequence.noop-keeps):
// the server gets RSET.
var NOOPResets = &Fault{command: func(c *conn, cmd *command) bool {
	if !cmd.is("NOOP") {
		return false
	}
	if _, cmd.err = c.hidden("RSET"); cmd.err == nil {
		c.answer(cmd, 250, "2.0.0 OK")
	}
	return true
}}

// EHLOKeeps keeps the transaction across EHLO (smtp.sequence.ehlo-resets):
// inside a transaction the proxy answers EHLO with the server's last EHLO
// reply.
var EHLOKeeps = &Fault{command: func(c *conn, cmd *command) bool {
	if !hello(cmd, "EHLO") || c.state < mailGiven || c.ehlo == nil {
		return false
	}
	lines := append([]string(nil), c.ehlo...)
	if host, _, ok := strings.Cut(lines[0], " greets "); ok {
		lines[0] = host + " greets " + cmd.arg
	}
	c.send(cmd, &reply{code: 250, lines: lines})
	return true
}}

// mailPath splits a proper MAIL command's argument into its path and its
// parameters (RFC 5321 §4.1.1.2, §4.1.2); ok is false for one the server
// refuses as a syntax error.
func mailPath(cmd *command) (path string, params []string, null, ok bool) {
	if !cmd.is("MAIL") || len(cmd.arg) < len("FROM:") || !strings.EqualFold(cmd.arg[:len("FROM:")], "FROM:") {
		return "", nil, false, false
	}
	rest := cmd.arg[len("FROM:"):]
	_, null, tail, err := smtpaddr.ParsePath(rest)
	if err != nil || strings.HasPrefix(rest, " ") || tail != "" && tail[0] != ' ' {
		return "", nil, false, false
	}
	return rest[:len(rest)-len(tail)], strings.Fields(tail), null, true
}

// withParams rewrites a MAIL command with the parameters kept, then
// extra.
func withParams(cmd *command, path string, params []string, keep func(key, value string) bool, extra ...string) {
	line := "MAIL FROM:" + path
	for _, p := range params {
		key, value, _ := strings.Cut(p, "=")
		if keep(strings.ToUpper(key), value) {
			line += " " + p
		}
	}
	for _, p := range extra {
		line += " " + p
	}
	cmd.setLine(line)
}

// RefuseNullSender refuses MAIL FROM:<> (smtp.mail.null-sender).
var RefuseNullSender = answering(func(c *conn, cmd *command) bool {
	_, _, null, ok := mailPath(cmd)
	return ok && null && c.state == ready
}, 501, "5.1.7 Bad sender address syntax (RFC 5321 section 4.1.2)")

// IgnoreUnknownParameters takes any MAIL parameter
// (smtp.mail.unknown-parameter): the server gets only those it knows.
var IgnoreUnknownParameters = &Fault{command: func(_ *conn, cmd *command) bool {
	if path, params, _, ok := mailPath(cmd); ok {
		withParams(cmd, path, params, func(key, _ string) bool { return key == "SIZE" || key == "BODY" || key == "AUTH" })
	}
	return false
}}

// IgnoreDeclaredSize takes a SIZE= over the limit (RFC 1870 §6;
// smtp.size.enforced): the server gets MAIL without it.
var IgnoreDeclaredSize = &Fault{command: func(_ *conn, cmd *command) bool {
	if path, params, _, ok := mailPath(cmd); ok {
		withParams(cmd, path, params, func(key, value string) bool { return key != "SIZE" || !isSizeValue(value) })
	}
	return false
}}

// isSizeValue is RFC 1870 §3 size-value: 1*20DIGIT.
func isSizeValue(s string) bool {
	return len(s) >= 1 && len(s) <= 20 && strings.Trim(s, "0123456789") == ""
}

// RecipientLimit answers 452 after n recipients, even below the RFC 5321
// §4.5.3.1.8 minimum of 100 (smtp.limit.recipients-100).
func RecipientLimit(n int) *Fault {
	return &Fault{command: func(c *conn, cmd *command) bool {
		if !cmd.is("RCPT") || len(c.rcpts) < n {
			return false
		}
		c.answer(cmd, 452, "4.5.3 Too many recipients (at most "+strconv.Itoa(n)+" per message)")
		return true
	}}
}
