package faultsmtp

import (
	"bytes"
	"strconv"
	"strings"
)

// Faults in the form of replies (RFC 5321 §4.2, RFC 2034).

// GreetingCode greets with code instead of 220 (smtp.greeting.code).
func GreetingCode(code int) *Fault {
	return &Fault{reply: func(_ *conn, cmd *command, r *reply) {
		if cmd.kind == kindGreeting {
			r.code = code
		}
	}}
}

// GreetingText greets with text, which names no domain first
// (smtp.greeting.domain).
func GreetingText(text string) *Fault {
	return &Fault{reply: func(_ *conn, cmd *command, r *reply) {
		if cmd.kind == kindGreeting {
			r.lines = []string{text}
		}
	}}
}

// framed reports whether the server frames r itself, through its one
// reply writer, rather than writing the line as is: the greeting, the
// reply to HELO, 354 and 334 are written as is, so the framing faults
// spare them.
func framed(cmd *command, r *reply) bool {
	return cmd.kind != kindGreeting && !(cmd.verb == "HELO" && r.code == 250) && r.code != 354 && r.code != 334
}

// ReplyLineEndLF ends every reply line with a bare LF instead of CRLF
// (smtp.reply.syntax).
var ReplyLineEndLF = &Fault{wire: func(cmd *command, r *reply, octets []byte) []byte {
	if !framed(cmd, r) {
		return octets
	}
	return bytes.ReplaceAll(octets, []byte("\r\n"), []byte("\n"))
}}

// MultilineWithoutHyphen ends every line of a multi-line reply with a
// space, as if each were the last (smtp.reply.multiline).
var MultilineWithoutHyphen = &Fault{wire: func(cmd *command, r *reply, octets []byte) []byte {
	if !framed(cmd, r) {
		return octets
	}
	code := strconv.Itoa(r.code)
	return bytes.ReplaceAll(octets, []byte(code+"-"), []byte(code+" "))
}}

// OmitEnhancedCodes drops the enhanced code from 5xx replies
// (smtp.enhanced.present).
var OmitEnhancedCodes = &Fault{reply: func(_ *conn, _ *command, r *reply) {
	if r.code >= 500 && r.enhanced() != "" {
		r.setEnhanced("")
	}
}}

// EnhancedClassMismatch gives 5xx replies a 2.x.x enhanced code
// (smtp.enhanced.class).
var EnhancedClassMismatch = &Fault{reply: func(_ *conn, _ *command, r *reply) {
	if e := r.enhanced(); r.code >= 500 && e != "" {
		r.setEnhanced("2" + e[1:])
	}
}}

// ehloReply alters the server's 250 reply to EHLO.
func ehloReply(alter func(c *conn, r *reply)) *Fault {
	return &Fault{reply: func(c *conn, cmd *command, r *reply) {
		if cmd.kind == kindCommand && cmd.verb == "EHLO" && r.code == 250 {
			alter(c, r)
		}
	}}
}

// afterEnhanced is where an EHLO keyword the server does not offer goes:
// after ENHANCEDSTATUSCODES and any keyword put there before.
func afterEnhanced(r *reply) int {
	i := r.keyword("ENHANCEDSTATUSCODES") + 1
	for i < len(r.lines) && (r.lines[i] == "SMTPUTF8" || r.lines[i] == "X_BAD_KEYWORD") {
		i++
	}
	return i
}

// SizeKeyword replaces the EHLO SIZE line with line (smtp.size.syntax).
func SizeKeyword(line string) *Fault {
	return ehloReply(func(_ *conn, r *reply) {
		if i := r.keyword("SIZE"); i > 0 {
			r.lines[i] = line
		}
	})
}

// AdvertiseSMTPUTF8 offers SMTPUTF8 (RFC 6531), which the server does
// not implement: with 8BITMIME offered too, this is the correct case
// smtp.smtputf8.implies-8bitmime passes.
var AdvertiseSMTPUTF8 = ehloReply(func(_ *conn, r *reply) { r.insert(afterEnhanced(r), "SMTPUTF8") })

// HideEightBitMIME stops offering 8BITMIME (RFC 6152); the server still
// takes BODY=8BITMIME.
var HideEightBitMIME = ehloReply(func(_ *conn, r *reply) {
	if i := r.keyword("8BITMIME"); i > 0 {
		r.lines = append(r.lines[:i], r.lines[i+1:]...)
	}
})

// SMTPUTF8Without8BITMIME offers SMTPUTF8 and not 8BITMIME, which RFC
// 6531 §3.1 requires with it (smtp.smtputf8.implies-8bitmime).
var SMTPUTF8Without8BITMIME = Join(AdvertiseSMTPUTF8, HideEightBitMIME)

// BadEHLOKeyword offers a malformed keyword, with an underscore
// (smtp.ehlo.keywords).
var BadEHLOKeyword = ehloReply(func(_ *conn, r *reply) { r.insert(afterEnhanced(r), "X_BAD_KEYWORD") })

// STARTTLSStillOffered offers STARTTLS after TLS is up (RFC 3207 §4.2;
// smtp.starttls.not-offered-after).
var STARTTLSStillOffered = ehloReply(func(c *conn, r *reply) {
	if !c.secure {
		return
	}
	i := r.keyword("AUTH")
	if i < 0 {
		i = r.keyword("HELP")
	}
	if i < 0 {
		i = len(r.lines)
	}
	r.insert(i, "STARTTLS")
})

// UnknownCommand502 answers unknown commands 502 instead of 500
// (smtp.command.unknown).
var UnknownCommand502 = &Fault{reply: func(_ *conn, cmd *command, r *reply) {
	if cmd.kind == kindCommand && r.code == 500 && r.text(0) == "5.5.2 Syntax error, command unrecognized" {
		r.code, r.lines = 502, []string{"5.5.1 Command not implemented"}
	}
}}

// inAuth reports a reply to AUTH or to a response in its exchange.
func inAuth(cmd *command) bool {
	return cmd.kind == kindSASL || cmd.kind == kindCommand && cmd.verb == "AUTH"
}

// AuthCancelCode answers a cancelled AUTH exchange ("*") with code
// instead of 501 (RFC 4954 §4; smtp.auth.cancel).
func AuthCancelCode(code int) *Fault {
	return &Fault{reply: func(_ *conn, cmd *command, r *reply) {
		if inAuth(cmd) && r.code == 501 && strings.HasSuffix(r.text(0), "Authentication cancelled") {
			r.code = code
		}
	}}
}

// AuthBadBase64Code answers an AUTH response that does not decode with
// code and 5.7.8 instead of 501 5.5.2 (RFC 4954 §4; smtp.auth.bad-base64).
func AuthBadBase64Code(code int) *Fault {
	return &Fault{reply: func(_ *conn, cmd *command, r *reply) {
		if inAuth(cmd) && r.code == 501 && r.enhanced() == "5.5.2" {
			r.code = code
			r.setEnhanced("5.7.8")
		}
	}}
}
