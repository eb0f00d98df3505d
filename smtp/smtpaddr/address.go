// Package smtpaddr holds SMTP mailbox and path syntax (RFC 5321 §4.1.2,
// §4.1.3, §4.5.3.1): the Mailbox that a reference server backend receives
// and the parsers that the server and the tools share.
package smtpaddr

import (
	"errors"
	"net/netip"
	"strings"
)

// RFC 5321 §4.5.3.1: size limits of the parts of a path.
const (
	MaxLocalPart = 64
	MaxDomain    = 255
	MaxPath      = 256
)

// Path errors. ErrNonASCII means the address needs SMTPUTF8 (RFC 6531),
// which a server without it must refuse.
var (
	ErrPathSyntax = errors.New("path syntax: expected <local-part@domain>")
	ErrPathLength = errors.New("path too long (RFC 5321 §4.5.3.1)")
	ErrNonASCII   = errors.New("non-ASCII address without SMTPUTF8")
)

// Mailbox is local-part@domain, as RFC 5321 §4.1.2 defines it. Local is
// kept as sent (with quotes, if it was quoted).
type Mailbox struct {
	Local  string
	Domain string
}

func (m Mailbox) String() string {
	if m.Local == "" && m.Domain == "" {
		return ""
	}
	return m.Local + "@" + m.Domain
}

// ParsePath parses an RFC 5321 §4.1.2 Path ("<" [A-d-l ":"] Mailbox ">"),
// ignoring a source route as §C recommends. It returns the mailbox and the
// rest of the input after ">". The null path "<>" gives the zero Mailbox
// and null=true; the caller decides if it is allowed (MAIL only).
func ParsePath(s string) (mb Mailbox, null bool, rest string, err error) {
	if !strings.HasPrefix(s, "<") {
		return Mailbox{}, false, s, ErrPathSyntax
	}
	end := strings.IndexByte(s, '>')
	// A quoted local-part may hold '>', so find the closing '>' after the
	// quoted string.
	if q := strings.IndexByte(s, '"'); q >= 0 && (end < 0 || q < end) {
		closeQuote := quotedEnd(s, q)
		if closeQuote < 0 {
			return Mailbox{}, false, s, ErrPathSyntax
		}
		end = strings.IndexByte(s[closeQuote:], '>')
		if end >= 0 {
			end += closeQuote
		}
	}
	if end < 0 {
		return Mailbox{}, false, s, ErrPathSyntax
	}
	inner, rest := s[1:end], s[end+1:]
	if end+1 > MaxPath {
		return Mailbox{}, false, rest, ErrPathLength
	}
	if inner == "" {
		return Mailbox{}, true, rest, nil
	}
	for i := 0; i < len(inner); i++ {
		if inner[i] >= 0x80 {
			return Mailbox{}, false, rest, ErrNonASCII
		}
	}
	if strings.HasPrefix(inner, "@") {
		// A-d-l: "@" Domain *( "," "@" Domain ) ":" — accepted, ignored.
		colon := strings.IndexByte(inner, ':')
		if colon < 0 {
			return Mailbox{}, false, rest, ErrPathSyntax
		}
		for _, hop := range strings.Split(inner[:colon], ",") {
			if !strings.HasPrefix(hop, "@") || !IsDomain(hop[1:]) {
				return Mailbox{}, false, rest, ErrPathSyntax
			}
		}
		inner = inner[colon+1:]
	}
	mb, err = ParseMailbox(inner)
	return mb, false, rest, err
}

// ParseMailbox parses local-part "@" (domain / address-literal).
func ParseMailbox(s string) (Mailbox, error) {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return Mailbox{}, ErrPathSyntax
	}
	local, domain := s[:at], s[at+1:]
	if len(local) > MaxLocalPart || len(domain) > MaxDomain {
		return Mailbox{}, ErrPathLength
	}
	if !isDotString(local) && !isQuotedString(local) {
		return Mailbox{}, ErrPathSyntax
	}
	if !IsDomain(domain) && !IsAddressLiteral(domain) {
		return Mailbox{}, ErrPathSyntax
	}
	return Mailbox{Local: local, Domain: domain}, nil
}

// IsDomain reports RFC 5321 §4.1.2 Domain syntax: sub-domains of letters,
// digits and inner hyphens, separated by dots.
func IsDomain(s string) bool {
	if s == "" || len(s) > MaxDomain {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isLetDig(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

// IsAddressLiteral reports "[" IPv4 "]", "[IPv6:" IPv6 "]" or a general
// address literal "[tag:content]" (RFC 5321 §4.1.3).
func IsAddressLiteral(s string) bool {
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return false
	}
	inner := s[1 : len(s)-1]
	if tag, content, ok := strings.Cut(inner, ":"); ok {
		if strings.EqualFold(tag, "IPv6") {
			// The grammar has no zone ("%eth0"), and its "::" stands for
			// at least two groups of zeros, which netip does not require.
			a, err := netip.ParseAddr(content)
			return err == nil && a.Is6() && a.Zone() == "" && !compressesOneGroup(content)
		}
		// Standardized-tag = Ldh-str: letters, digits, inner hyphens.
		if tag == "" || !isLetDig(tag[len(tag)-1]) {
			return false
		}
		for i := 0; i < len(tag); i++ {
			if !isLetDig(tag[i]) && tag[i] != '-' {
				return false
			}
		}
		for i := 0; i < len(content); i++ {
			if c := content[i]; c < 33 || c > 126 || c == '[' || c == ']' || c == '\\' {
				return false
			}
		}
		return content != ""
	}
	a, err := netip.ParseAddr(inner)
	return err == nil && a.Is4()
}

// compressesOneGroup reports an IPv6 address (already parsed) whose "::"
// replaces a single group: RFC 5321 §4.1.3 allows at most 6 groups besides
// the "::" (IPv6-comp), or 4 besides it and an IPv4 part (IPv6v4-comp).
func compressesOneGroup(addr string) bool {
	if !strings.Contains(addr, "::") {
		return false
	}
	written := 0
	for _, group := range strings.Split(addr, ":") {
		switch {
		case strings.Contains(group, "."):
			written += 2 // the IPv4 part counts as two groups
		case group != "":
			written++
		}
	}
	return written > 6
}

func isLetDig(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isAtext reports RFC 5322 atext.
func isAtext(c byte) bool {
	return isLetDig(c) || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func isDotString(s string) bool {
	if s == "" {
		return false
	}
	for _, atom := range strings.Split(s, ".") {
		if atom == "" {
			return false
		}
		for i := 0; i < len(atom); i++ {
			if !isAtext(atom[i]) {
				return false
			}
		}
	}
	return true
}

func isQuotedString(s string) bool {
	return len(s) >= 2 && s[0] == '"' && quotedEnd(s, 0) == len(s)-1
}

// quotedEnd returns the index of the quote closing the quoted string that
// starts at s[start], or -1. qtextSMTP is %d32-33 / %d35-91 / %d93-126 and
// quoted-pairSMTP is "\" followed by %d32-126.
func quotedEnd(s string, start int) int {
	for i := start + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			if i+1 >= len(s) || s[i+1] < 32 || s[i+1] > 126 {
				return -1
			}
			i++
		case c == '"':
			return i
		case c < 32 || c > 126:
			return -1
		}
	}
	return -1
}

// Domain returns the domain of an address, lower-cased, or "" if it has none.
func Domain(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(addr[at+1:])
}
