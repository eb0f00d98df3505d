package smtpsuite

import (
	"bytes"
	"fmt"
)

// replyFlaw is where a reply breaks the reply grammar: the line (as sent,
// line end included) and the rule it breaks.
type replyFlaw struct {
	line []byte
	rule string
}

func (f *replyFlaw) String() string {
	return fmt.Sprintf("%q breaks %s", f.line, f.rule)
}

// Rules of RFC 5321 §4.2 (and RFC 3463 §2 for enhanced codes), as quoted
// in the evidence.
const (
	ruleCRLF      = `RFC 5321 §4.2 (every reply line ends in CRLF)`
	ruleCode      = `RFC 5321 §4.2 (Reply-code = %x32-35 %x30-35 %x30-39)`
	ruleSeparator = `RFC 5321 §4.2 (Reply-code is followed by "-" on every line but the last, by SP or the line end on the last)`
	ruleSameCode  = `RFC 5321 §4.2.1 (every line of a multi-line reply has the same code)`
	ruleText      = `RFC 5321 §4.2 (textstring = 1*(%d09 / %d32-126))`
	ruleEnhanced  = `RFC 3463 §2 (status-code = class "." subject "." detail; class = "2"/"4"/"5"; subject, detail = 1*3digit), RFC 2034 §4 (followed by SP)`
)

// flawIn checks one reply's raw lines against the reply grammar:
//
//	Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//	             Reply-code [ SP textstring ] CRLF
//
// (RFC 5321 §4.2; its prose lets the last line's SP stand before an empty
// text.) When enhanced is set (ENHANCEDSTATUSCODES was advertised), a
// text that starts like an enhanced status code must be one (RFC 3463 §2).
// With utf8 (SMTPUTF8 advertised) octets above 127 are let through in the
// text: such a server takes non-ASCII mailboxes (RFC 6531 §3.3 extends
// their syntax), and its replies may quote them. It returns the first
// flaw, or nil.
func flawIn(lines [][]byte, enhanced, utf8 bool) *replyFlaw {
	for i, raw := range lines {
		flaw := func(rule string) *replyFlaw { return &replyFlaw{line: raw, rule: rule} }
		if !bytes.HasSuffix(raw, []byte("\r\n")) {
			return flaw(ruleCRLF)
		}
		line := raw[:len(raw)-2]
		if len(line) < 3 || !isReplyCode(line[:3]) {
			return flaw(ruleCode)
		}
		if i > 0 && !bytes.Equal(line[:3], lines[0][:3]) {
			return flaw(ruleSameCode)
		}
		last := i == len(lines)-1
		if len(line) == 3 {
			if !last {
				return flaw(ruleSeparator)
			}
			continue
		}
		if sep := line[3]; last && sep != ' ' || !last && sep != '-' {
			return flaw(ruleSeparator)
		}
		text := line[4:]
		if !isTextString(text, utf8) {
			return flaw(ruleText)
		}
		if enhanced && looksEnhanced(text) && !isEnhancedPrefix(text) {
			return flaw(ruleEnhanced)
		}
	}
	return nil
}

func isReplyCode(b []byte) bool {
	return b[0] >= '2' && b[0] <= '5' && b[1] >= '0' && b[1] <= '5' && b[2] >= '0' && b[2] <= '9'
}

// isTextString: HT, SP and printable US-ASCII (and, with utf8, octets
// above 127).
func isTextString(b []byte, utf8 bool) bool {
	for _, c := range b {
		if !(c == '\t' || c >= 32 && c <= 126 || utf8 && c >= 0x80) {
			return false
		}
	}
	return true
}

// looksEnhanced: the text's first word is three groups of digits joined
// by dots, the shape of an enhanced status code ("4.7.1"); a domain, an
// IPv4 address ("10.0.0.1") or a number ("3.5 seconds") is not.
func looksEnhanced(text []byte) bool {
	word, _, _ := bytes.Cut(text, []byte(" "))
	parts := bytes.Split(word, []byte("."))
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if !allDigits(p) {
			return false
		}
	}
	return true
}

// isEnhancedPrefix: the text starts with class "." subject "." detail,
// followed by SP or the end of the line.
func isEnhancedPrefix(text []byte) bool {
	code, _, _ := bytes.Cut(text, []byte(" "))
	parts := bytes.Split(code, []byte("."))
	if len(parts) != 3 || len(parts[0]) != 1 || !bytes.ContainsAny(parts[0], "245") {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) < 1 || len(p) > 3 || !allDigits(p) {
			return false
		}
	}
	return true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
