package smtpwire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
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

// FuzzReadReply feeds arbitrary server output, repeated without end, to
// ReadReply through a small buffer. Whatever the input, ReadReply returns,
// having read at most MaxReplyLines lines of at most the buffer's size
// (memory stays bounded against a hostile server), and gives either an
// error or a reply whose code is in the RFC 5321 §4.2 grammar and whose
// lines are at most the buffer's size.
func FuzzReadReply(f *testing.F) {
	for _, seed := range []struct {
		in   string
		size uint16
	}{
		{"220 mx.example ESMTP\r\n", 4096},
		{"250-mx.example\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 16},
		{"550 5.1.1 No such user\r\n", 64},
		{"250\r\n", 0},
		{"250-a\r\n251 b\r\n", 0},
		{"250-", 100},
		{"250-a\r\n", 64},
		{"999 nine\r\n", 0},
		{"100 one\r\n", 0},
		{"260 six\r\n", 0},
		{"25x oops\r\n", 0},
		{"250xtext\r\n", 0},
		{"250 2.0.0\r\n", 0},
		{"250-x\n", 0},
		{"\r\n", 0},
		{strings.Repeat("x", 300), 20},
	} {
		f.Add([]byte(seed.in), seed.size, true)
	}
	f.Fuzz(func(t *testing.T, in []byte, size uint16, enhanced bool) {
		if len(in) == 0 {
			return
		}
		// bufio keeps at least 16 octets.
		bufSize := max(16, int(size%1024))
		// Bufio reads at most a buffer ahead of what it returns.
		limit := int64(MaxReplyLines+1) * int64(bufSize)
		src := &repeatingReader{data: in, limit: limit}
		r := bufio.NewReaderSize(src, bufSize)
		lines := 0
		reply, err := ReadReply(r, enhanced, func(line []byte) {
			lines++
			if len(line) > r.Size() {
				t.Fatalf("line of %d octets through a %d-octet buffer", len(line), r.Size())
			}
		})
		if src.overrun {
			t.Fatalf("ReadReply read more than %d octets (%d lines of %d) of %q repeated", limit, MaxReplyLines, bufSize, in)
		}
		if lines > MaxReplyLines {
			t.Fatalf("ReadReply read %d lines, more than MaxReplyLines", lines)
		}
		if err != nil {
			if reply != nil {
				t.Fatalf("ReadReply returned a reply and an error: %v", err)
			}
			return
		}
		checkReply(t, reply, in)
		if len(reply.Lines) != lines {
			t.Fatalf("reply of %d lines from %d lines read", len(reply.Lines), lines)
		}
	})
}

// checkReply checks the properties of any reply ReadReply returns: RFC 5321
// §4.2 Reply-code = %x32-35 %x30-35 %x30-39, at least one line, lines that
// fit the buffer, and an enhanced code only of RFC 3463 §2 form.
func checkReply(t *testing.T, reply *Reply, in []byte) {
	t.Helper()
	c := strconv.Itoa(reply.Code)
	if len(c) != 3 || c[0] < '2' || c[0] > '5' || c[1] > '5' {
		t.Fatalf("reply code %d from %q is outside the RFC 5321 §4.2 grammar", reply.Code, in)
	}
	if len(reply.Lines) == 0 || len(reply.Lines) > MaxReplyLines {
		t.Fatalf("reply with %d lines from %q", len(reply.Lines), in)
	}
	if reply.Enhanced != "" {
		if code, rest, ok := SplitEnhanced(reply.Enhanced); !ok || code != reply.Enhanced || rest != "" {
			t.Fatalf("enhanced code %q from %q is not class.subject.detail", reply.Enhanced, in)
		}
	}
	for _, l := range reply.Lines {
		if strings.ContainsAny(l, "\n") {
			t.Fatalf("reply line %q holds an LF", l)
		}
	}
}

// repeatingReader returns data over and over; past limit octets it records
// the overrun and reports EOF, so a reader that does not stop still ends.
type repeatingReader struct {
	data    []byte
	off     int
	read    int64
	limit   int64
	overrun bool
}

func (r *repeatingReader) Read(p []byte) (int, error) {
	if r.read >= r.limit {
		r.overrun = true
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.read < r.limit {
		c := copy(p[n:], r.data[r.off:])
		r.off = (r.off + c) % len(r.data)
		n += c
		r.read += int64(c)
	}
	return n, nil
}

// FuzzReplyRoundTrip writes a reply built from fuzzed parts with
// Reply.AppendTo and reads it back with ReadReply: the code, the enhanced
// code and every line come back as they were.
func FuzzReplyRoundTrip(f *testing.F) {
	f.Add(uint16(0), uint16(0), "mx.example greets you")
	f.Add(uint16(251), uint16(1), "one\ntwo\n\nfour")
	f.Add(uint16(3), uint16(999), "")
	f.Add(uint16(77), uint16(5000), " leading space\n2.1.0 looks enhanced\n250 looks like a code")
	f.Add(uint16(1), uint16(2), "tab\there\nhigh \xff octet")
	f.Fuzz(func(t *testing.T, codeSeed, enhancedSeed uint16, text string) {
		// Any code of the RFC 5321 §4.2 grammar: 2-5, 0-5, 0-9.
		code := (2+int(codeSeed)%4)*100 + int(codeSeed/4%6)*10 + int(codeSeed/24%10)
		// An enhanced code of RFC 3463 §2 (class 2, 4 or 5), or none.
		enhanced := ""
		if enhancedSeed%4 != 0 {
			class := []string{"2", "4", "5"}[enhancedSeed%3]
			enhanced = class + "." + strconv.Itoa(int(enhancedSeed/3%1000)) + "." + strconv.Itoa(int(enhancedSeed/7%1000))
		}
		// RFC 5321 §4.2: text lines carry no CR or LF.
		text = strings.ReplaceAll(text, "\r", "")
		lines := strings.Split(text, "\n")
		if len(lines) > MaxReplyLines {
			lines = lines[:MaxReplyLines]
		}
		want := &Reply{Code: code, Enhanced: enhanced, Lines: lines}
		wire := want.AppendTo(nil)
		// A line is at most code, separator, enhanced code, space, text, CRLF.
		longest := 0
		for _, l := range lines {
			longest = max(longest, len(l))
		}
		r := bufio.NewReaderSize(bytes.NewReader(wire), longest+len(enhanced)+8)
		got, err := ReadReply(r, enhanced != "", nil)
		if err != nil {
			t.Fatalf("ReadReply(%q): %v", wire, err)
		}
		if got.Code != want.Code || got.Enhanced != want.Enhanced || strings.Join(got.Lines, "\n") != strings.Join(want.Lines, "\n") || len(got.Lines) != len(want.Lines) {
			t.Fatalf("wrote %+v as %q, read back %+v", want, wire, got)
		}
		if r.Buffered() != 0 {
			t.Fatalf("ReadReply left %d octets of %q", r.Buffered(), wire)
		}
	})
}

// FuzzDotWriter checks the two dot-stuffers (RFC 5321 §4.5.2) against each
// other and against the receiver's rule: DotWriter, however the message is
// split into writes, produces exactly AppendDotStuffed's bytes; the data
// ends with CRLF "." CRLF and holds no earlier end of data, even for a
// receiver that also takes a bare LF as a line end; and removing one
// leading dot from each line gives the message back (with a final CRLF
// added if it had none), for any message whose line ends are all CRLF.
func FuzzDotWriter(f *testing.F) {
	for _, seed := range []string{
		"", ".", "..", ".\r\n", "a\r\n.\r\nb\r\n", "a\n.\nb", "a\r.\r", "x\r\n..\r\n.x\r\n",
		"\r\n.\r\n", "no final line end", "ends in CR\r", "a\n.\r\nMAIL FROM:<x@y>\r\n",
	} {
		f.Add([]byte(seed), uint16(1))
	}
	f.Fuzz(func(t *testing.T, msg []byte, splits uint16) {
		want := AppendDotStuffed(nil, msg)
		var got bytes.Buffer
		d := NewDotWriter(&got)
		// Split the message into writes at points the fuzzer picks.
		rest, step := msg, int(splits%17)
		for len(rest) > 0 {
			n := min(len(rest), step+1)
			if _, err := d.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
			step = (step*7 + 3) % 17
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("DotWriter wrote %q, AppendDotStuffed %q, for %q", got.Bytes(), want, msg)
		}
		if !bytes.HasSuffix(want, []byte(".\r\n")) || (len(want) > 3 && !bytes.HasSuffix(want, []byte("\r\n.\r\n"))) {
			t.Fatalf("data %q does not end with CRLF.CRLF", want)
		}
		body := want[:len(want)-3]
		if bytes.HasPrefix(body, []byte(".\r\n")) || bytes.Contains(body, []byte("\n.\r\n")) || bytes.Contains(body, []byte("\n.\n")) {
			t.Fatalf("data %q for %q holds an end of data before its end", want, msg)
		}
		if hasBareCROrLF(msg) {
			return
		}
		var unstuffed []byte
		for line := range bytes.SplitAfterSeq(body, []byte("\r\n")) {
			unstuffed = append(unstuffed, bytes.TrimPrefix(line, []byte("."))...)
		}
		wantBack := msg
		if len(msg) > 0 && !bytes.HasSuffix(msg, []byte("\r\n")) {
			wantBack = append(bytes.Clone(msg), '\r', '\n')
		}
		if !bytes.Equal(unstuffed, wantBack) {
			t.Fatalf("data %q unstuffs to %q, want %q", want, unstuffed, wantBack)
		}
	})
}

// hasBareCROrLF reports a CR not followed by LF or an LF not preceded by
// CR (RFC 5321 §2.3.8: only CRLF ends a line).
func hasBareCROrLF(b []byte) bool {
	for i, c := range b {
		if c == '\r' && (i+1 >= len(b) || b[i+1] != '\n') || c == '\n' && (i == 0 || b[i-1] != '\r') {
			return true
		}
	}
	return false
}
