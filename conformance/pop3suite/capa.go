package pop3suite

import (
	"fmt"
	"strings"
)

// A CAPA listing read against RFC 2449 §6 and §9:
//
//	capability = capa-tag *(SP param) CRLF   ; 512 octets maximum
//	capa-tag   = 1*cchar
//	param      = 1*pchar
//	cchar      = %x21-2D / %x2F-7F           ; printable ASCII, excluding "."
//	pchar      = %x21-7F                     ; printable ASCII
//
// and the arguments of the registered tags (the IANA POP3 registry).

// capability is one well-formed line of the listing.
type capability struct {
	tag    string // upper case: tags are matched without regard to case
	params []string
}

// capaListing is a CAPA response's body, line by line.
type capaListing struct {
	caps map[string]capability
	// malformed holds a *grammarError for each line that breaks the
	// grammar or its tag's argument syntax, or misspells a registered tag.
	malformed []error
	// spoilt maps a registered tag to the error of a line that meant it
	// (a misspelling, or the tag with malformed arguments).
	spoilt map[string]error
	// unknown lists tags neither registered nor "X-" experimental.
	unknown []string
}

// parseCapa reads a CAPA body (byte-stuffing undone, lines ending CRLF).
func parseCapa(body []byte) capaListing {
	l := capaListing{caps: map[string]capability{}, spoilt: map[string]error{}}
	for _, line := range strings.Split(strings.TrimSuffix(string(body), "\r\n"), "\r\n") {
		if line == "" && len(body) == 0 {
			break
		}
		c, meant, err := parseCapability(line)
		switch {
		case err != nil:
			l.malformed = append(l.malformed, err)
			if meant != "" {
				l.spoilt[meant] = err
			}
		case !registeredTag(c.tag) && !experimentalTag(c.tag):
			l.unknown = append(l.unknown, c.tag)
			l.caps[c.tag] = c
		default:
			l.caps[c.tag] = c
		}
	}
	return l
}

// has reports whether tag is announced, well-formed.
func (l capaListing) has(tag string) bool {
	_, ok := l.caps[tag]
	return ok
}

// lack says why a registered tag is not usable: missing, or malformed
// (with the line and the rule). "" when it is announced, well-formed.
func (l capaListing) lack(tag string) string {
	if l.has(tag) {
		return ""
	}
	if err, ok := l.spoilt[tag]; ok {
		return fmt.Sprintf("CAPA announces %s malformed: %v (see pop3.capa.syntax)", tag, err)
	}
	return tag + " not in CAPA"
}

// parseCapability reads one line. On error, meant is the registered tag the
// line was meant to announce, when that can be told.
func parseCapability(line string) (c capability, meant string, err error) {
	bad := func(rule string) (capability, string, error) {
		return capability{}, meant, &grammarError{line, rule}
	}
	if len(line)+2 > 512 {
		return bad("RFC 2449 §9: a capability line is at most 512 octets with its CRLF")
	}
	fields := strings.Split(line, " ")
	tag := strings.ToUpper(fields[0])
	if registeredTag(tag) {
		meant = tag
	} else if near := nearTag(tag); near != "" {
		meant = near
		return bad(fmt.Sprintf("RFC 2449 §6 and the IANA POP3 registry: the tag is spelled %s; %q announces nothing a client knows", near, fields[0]))
	}
	if tag == "" || !allBytes(tag, isCChar) {
		return bad(`RFC 2449 §9: capa-tag = 1*cchar, printable ASCII but "."`)
	}
	params := fields[1:]
	for _, p := range params {
		if p == "" || !allBytes(p, isPChar) {
			return bad("RFC 2449 §9: capability = capa-tag *(SP param), param = 1*pchar: one space before each non-empty printable parameter")
		}
	}
	if rule := argumentRule(tag, params); rule != "" {
		return bad(rule)
	}
	return capability{tag: tag, params: params}, meant, nil
}

func isCChar(b byte) bool { return b >= 0x21 && b <= 0x7f && b != '.' }
func isPChar(b byte) bool { return b >= 0x21 && b <= 0x7f }

// tagArguments are the registered tags and their argument rules: a
// function returning the broken rule ("" when the arguments are right).
var tagArguments = map[string]func(params []string) string{
	"TOP":            none("RFC 2449 §6.1"),
	"USER":           none("RFC 2449 §6.2"),
	"SASL":           saslMechanisms,
	"RESP-CODES":     none("RFC 2449 §6.4"),
	"LOGIN-DELAY":    numberThenUser("RFC 2449 §6.5: LOGIN-DELAY minimum-seconds [USER]", false),
	"PIPELINING":     none("RFC 2449 §6.6"),
	"EXPIRE":         numberThenUser(`RFC 2449 §6.7: EXPIRE days or "NEVER", then optionally "USER"`, true),
	"UIDL":           none("RFC 2449 §6.8"),
	"IMPLEMENTATION": func([]string) string { return "" }, // RFC 2449 §6.9: free text
	"STLS":           none("RFC 2595 §4"),
	"AUTH-RESP-CODE": none("RFC 3206 §6"),
	"UTF8":           utf8Argument,
	"LANG":           none("RFC 6856 §3"),
}

func registeredTag(tag string) bool { _, ok := tagArguments[tag]; return ok }

// argumentRule returns the rule a registered tag's arguments break, ""
// when they are right or the tag is not registered.
func argumentRule(tag string, params []string) string {
	if rule, ok := tagArguments[tag]; ok {
		return rule(params)
	}
	return ""
}

// experimentalTag: RFC 2449 §7 keeps tags beginning with "X" out of the
// registry, for private use.
func experimentalTag(tag string) bool { return strings.HasPrefix(tag, "X") }

func none(section string) func([]string) string {
	return func(params []string) string {
		if len(params) > 0 {
			return section + ": the tag takes no arguments"
		}
		return ""
	}
}

// saslMechanisms: RFC 2449 §6.3 lists the SASL mechanisms, each a name of
// RFC 4422 §3.1 (1 to 20 upper-case letters, digits, "-" and "_").
func saslMechanisms(params []string) string {
	const rule = "RFC 2449 §6.3 and RFC 4422 §3.1: SASL followed by mechanism names of 1 to 20 characters A-Z 0-9 - _"
	if len(params) == 0 {
		return rule
	}
	for _, p := range params {
		if len(p) > 20 || !allBytes(p, isMechChar) {
			return rule
		}
	}
	return ""
}

func isMechChar(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}

// numberThenUser is the rule of LOGIN-DELAY and EXPIRE: a number of
// seconds or days (or NEVER, for EXPIRE), then optionally USER (the value
// may differ per user).
func numberThenUser(rule string, never bool) func([]string) string {
	return func(params []string) string {
		if len(params) == 0 || len(params) > 2 {
			return rule
		}
		if !(isNumber(params[0]) || never && strings.EqualFold(params[0], "NEVER")) {
			return rule
		}
		if len(params) == 2 && !strings.EqualFold(params[1], "USER") {
			return rule
		}
		return ""
	}
}

func utf8Argument(params []string) string {
	if len(params) == 0 || len(params) == 1 && strings.EqualFold(params[0], "USER") {
		return ""
	}
	return `RFC 6856 §2: UTF8, then optionally "USER"`
}

func isNumber(s string) bool {
	return s != "" && allBytes(s, func(b byte) bool { return b >= '0' && b <= '9' })
}

// nearTag returns the registered tag an unregistered one misspells (one
// edit away, or the same but for "-" and "_"), "" for none. Experimental
// tags are never misspellings.
func nearTag(tag string) string {
	if registeredTag(tag) || experimentalTag(tag) {
		return ""
	}
	for reg := range tagArguments {
		if strings.ReplaceAll(tag, "_", "-") == reg || len(reg) >= 4 && editDistance(tag, reg) <= 1 {
			return reg
		}
	}
	return ""
}

// editDistance is the Levenshtein distance, with a swap of neighbours
// counted as one edit.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// allBytes reports whether every octet of s is ok.
func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
