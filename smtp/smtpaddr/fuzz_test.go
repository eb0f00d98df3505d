package smtpaddr

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The fuzz targets below check the wire pieces the server and the tools
// share against properties taken from the RFCs, not against the code's own
// idea of them. Seeds are added here and committed under
// testdata/fuzz/<FuzzName>, so `go test ./...` runs them.

// FuzzParsePath checks ParsePath against an independent recognizer of the
// RFC 5321 §4.1.2 Path grammar (rfc5321Path, below):
//   - soundness: an accepted path is in the grammar, within the §4.5.3.1
//     size limits, and its mailbox holds no CR, LF, NUL, and no space
//     outside a quoted local-part;
//   - completeness: a path in the grammar is accepted, with the same
//     mailbox and rest (except the refusals rfc5321Path allows);
//   - round trip: "<" + mailbox + ">" parses back to the same mailbox.
func FuzzParsePath(f *testing.F) {
	for _, seed := range []string{
		"<a@example.com>", "<>", "<> SIZE=10", "<a@example.com> BODY=8BITMIME",
		"<@hop1,@hop2:a@example.com>", `<"a b>c"@example.com>`, `<"\"\\"@x>`, `<""@x>`,
		"<a@[127.0.0.1]>", "<a@[IPv6:::1]>", "<a@[IPv6:1:2:3:4:5:6:7::]>", "<a@[IPv6:fe80::1%eth0]>",
		"<a@[IPv6:::ffff:1.2.3.4]>", "<a@[x-tag:content]>", "<a@[x y:z]>", "<a@[010.1.1.1]>",
		"<a..b@example.com>", "<a@-x.com>", "<a@x_y.com>", "<j\xc3\xb6rg@example.com>",
		"<" + strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + ".com>", "<a@b>c>", "<a\"@b>",
		"<a@b\r\n>", "<a b@c>", "<a@b\x00>", "<first.last+tag@sub.example.com>", "<postmaster@[IPv6:2001:db8::1.2.3.4]>",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mb, null, rest, err := ParsePath(s)
		if err != nil {
			if errors.Is(err, ErrNonASCII) && isASCII(s) {
				t.Fatalf("ParsePath(%q): %v, but the input is ASCII", s, err)
			}
		} else {
			checkAcceptedPath(t, s, mb, null, rest)
		}
		want, ok := rfc5321Path(s)
		if !ok || want.mayRefuse != "" {
			return
		}
		if err != nil {
			t.Fatalf("ParsePath(%q) refused a path of the RFC 5321 grammar (%q): %v", s, s[:want.n], err)
		}
		if null != want.null || mb != want.mb || rest != s[want.n:] {
			t.Fatalf("ParsePath(%q) = %q, null %v, rest %q; the grammar says %q, null %v, rest %q",
				s, mb, null, rest, want.mb, want.null, s[want.n:])
		}
	})
}

// checkAcceptedPath checks what ParsePath returned for s without error.
func checkAcceptedPath(t *testing.T, s string, mb Mailbox, null bool, rest string) {
	t.Helper()
	if !strings.HasSuffix(s, rest) {
		t.Fatalf("ParsePath(%q): rest %q is not the end of the input", s, rest)
	}
	consumed := s[:len(s)-len(rest)]
	if !strings.HasPrefix(consumed, "<") || !strings.HasSuffix(consumed, ">") {
		t.Fatalf("ParsePath(%q) consumed %q, not a <...> path", s, consumed)
	}
	if len(consumed) > MaxPath {
		t.Fatalf("ParsePath(%q) accepted a %d-octet path (RFC 5321 §4.5.3.1.3: %d)", s, len(consumed), MaxPath)
	}
	if null {
		if mb != (Mailbox{}) || consumed != "<>" {
			t.Fatalf("ParsePath(%q): null path with mailbox %q from %q", s, mb, consumed)
		}
		return
	}
	if len(mb.Local) > MaxLocalPart || len(mb.Domain) > MaxDomain {
		t.Fatalf("ParsePath(%q) accepted local-part of %d and domain of %d octets (RFC 5321 §4.5.3.1.1-2)", s, len(mb.Local), len(mb.Domain))
	}
	quoted := strings.HasPrefix(mb.Local, `"`)
	for i := 0; i < len(mb.String()); i++ {
		c := mb.String()[i]
		inLocal := i < len(mb.Local)
		if c == '\r' || c == '\n' || c == 0 || c < 0x20 || c > 0x7e || c == ' ' && !(inLocal && quoted) {
			t.Fatalf("ParsePath(%q) accepted mailbox %q with octet %#x at %d", s, mb, c, i)
		}
	}
	if _, ok := rfc5321Mailbox(mb.String()); !ok {
		t.Fatalf("ParsePath(%q) accepted mailbox %q, which is not in the RFC 5321 §4.1.2 grammar", s, mb)
	}
	// Round trip: the mailbox written as a path parses back to itself.
	again, againNull, againRest, err := ParsePath("<" + mb.String() + ">")
	if err != nil || againNull || againRest != "" || again != mb {
		t.Fatalf("ParsePath(%q) gave %q, but <%s> parses as %q, null %v, rest %q, %v", s, mb, mb, again, againNull, againRest, err)
	}
	if direct, err := ParseMailbox(mb.String()); err != nil || direct != mb {
		t.Fatalf("ParseMailbox(%q) = %q, %v; ParsePath gave it", mb, direct, err)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// The RFC 5321 §4.1.2 grammar, written out from the ABNF. Domain labels
// are also held to 63 octets (RFC 1035 §2.3.4): no DNS name has longer.
var (
	atextClass    = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]"
	dotString     = atextClass + "+(?:\\." + atextClass + "+)*"
	quotedString  = `"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"`
	subDomain     = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
	domainPattern = subDomain + `(?:\.` + subDomain + `)*`
	// An address literal is checked further by rfc5321AddressLiteral.
	literalPattern = `\[[\x21-\x5a\x5e-\x7e]*\]`
	mailboxRE      = regexp.MustCompile(`^(` + dotString + `|` + quotedString + `)@(` + domainPattern + `|` + literalPattern + `)$`)
	adlRE          = regexp.MustCompile(`^@` + domainPattern + `(?:,@` + domainPattern + `)*:`)
	generalTagRE   = regexp.MustCompile(`^[A-Za-z0-9-]*[A-Za-z0-9]$`)
	hexGroupRE     = regexp.MustCompile(`^[0-9A-Fa-f]{1,4}$`)
	snumRE         = regexp.MustCompile(`^[0-9]{1,3}$`)
)

// pathVerdict is what the grammar says of the path at the start of an input.
type pathVerdict struct {
	n    int // octets of the path, "<" to ">"
	null bool
	mb   Mailbox
	// mayRefuse, when set, names why a server may refuse this path although
	// the grammar has it; completeness is not checked for it.
	mayRefuse string
}

// rfc5321Path finds the Path or "<>" at the start of s, if any, within
// the RFC 5321 §4.5.3.1 size limits.
func rfc5321Path(s string) (pathVerdict, bool) {
	if !strings.HasPrefix(s, "<") {
		return pathVerdict{}, false
	}
	// Where the path ends is not known before it is parsed (">" may be in
	// a quoted local-part): try each ">" in turn. Only a general address
	// literal could make two of them valid, and those are not checked for
	// completeness.
	for j := 1; j < len(s) && j < MaxPath; j++ {
		if s[j] != '>' {
			continue
		}
		inner := s[1:j]
		if inner == "" {
			return pathVerdict{n: 2, null: true}, true
		}
		if route := adlRE.FindString(inner); route != "" {
			inner = inner[len(route):]
		}
		if v, ok := rfc5321Mailbox(inner); ok {
			v.n = j + 1
			return v, true
		}
	}
	return pathVerdict{}, false
}

// rfc5321Mailbox checks Mailbox = Local-part "@" ( Domain / address-literal ).
func rfc5321Mailbox(s string) (pathVerdict, bool) {
	m := mailboxRE.FindStringSubmatch(s)
	if m == nil {
		return pathVerdict{}, false
	}
	local, domain := m[1], m[2]
	if len(local) > MaxLocalPart || len(domain) > MaxDomain {
		return pathVerdict{}, false
	}
	v := pathVerdict{mb: Mailbox{Local: local, Domain: domain}}
	if strings.HasPrefix(domain, "[") {
		why, ok := rfc5321AddressLiteral(domain[1 : len(domain)-1])
		if !ok {
			return pathVerdict{}, false
		}
		v.mayRefuse = why
	}
	return v, true
}

// rfc5321AddressLiteral checks the inside of an RFC 5321 §4.1.3 address
// literal: IPv4, "IPv6:" IPv6, or Standardized-tag ":" 1*dcontent (the
// octets of dcontent are already held to %d33-90 / %d94-126 by
// literalPattern).
func rfc5321AddressLiteral(s string) (mayRefuse string, ok bool) {
	tag, content, tagged := strings.Cut(s, ":")
	switch {
	case !tagged && rfc5321IPv4(s), tagged && strings.EqualFold(tag, "IPv6") && rfc5321IPv6(content):
		if ipv4LeadingZero(s) {
			// Snum allows "010", which inet_aton reads as octal 8; the
			// reference refuses such a literal as ambiguous.
			return "IPv4 number with a leading zero", true
		}
		return "", true
	case tagged && !strings.EqualFold(tag, "IPv6") && generalTagRE.MatchString(tag) && content != "":
		// A tag must be registered with IANA, and none but IPv6 is, so a
		// server may refuse every other one.
		return "general address literal with an unregistered tag", true
	}
	return "", false
}

// ipv4LeadingZero reports an IPv4 part (alone or at the end of an IPv6
// literal) with a number written with a leading zero.
func ipv4LeadingZero(literal string) bool {
	v4 := literal[strings.LastIndexByte(literal, ':')+1:]
	if !strings.Contains(v4, ".") {
		return false
	}
	for _, p := range strings.Split(v4, ".") {
		if len(p) > 1 && p[0] == '0' {
			return true
		}
	}
	return false
}

// rfc5321IPv4 checks IPv4-address-literal = Snum 3("." Snum), Snum 0-255.
func rfc5321IPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if !snumRE.MatchString(p) {
			return false
		}
		if n, _ := strconv.Atoi(p); n > 255 {
			return false
		}
	}
	return true
}

// rfc5321IPv6 checks IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp.
// The full forms have 8 groups, or 6 and the IPv4 part; in the compressed
// forms "::" stands for at least two groups of zeros, so at most 6 groups
// are written besides it, or 4 besides it and the IPv4 part.
func rfc5321IPv6(s string) bool {
	groups := func(s string) (int, bool) {
		if s == "" {
			return 0, true
		}
		parts := strings.Split(s, ":")
		for _, p := range parts {
			if !hexGroupRE.MatchString(p) {
				return 0, false
			}
		}
		return len(parts), true
	}
	hex, full, compressedMax := s, 8, 6
	if strings.Contains(s, ".") {
		colon := strings.LastIndexByte(s, ':')
		if colon < 0 || !rfc5321IPv4(s[colon+1:]) {
			return false
		}
		hex, full, compressedMax = s[:colon+1], 6, 4
		// The colon before the IPv4 part separates it from the last group,
		// unless it closes a "::".
		if !strings.HasSuffix(hex, "::") {
			hex = hex[:len(hex)-1]
		}
	}
	head, tail, compressed := strings.Cut(hex, "::")
	if !compressed {
		n, ok := groups(hex)
		return ok && n == full
	}
	if strings.Contains(tail, "::") {
		return false
	}
	nh, okh := groups(head)
	nt, okt := groups(tail)
	return okh && okt && nh+nt <= compressedMax
}
