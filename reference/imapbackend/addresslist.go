package imapbackend

import (
	"mime"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// parseAddressList reads an address-list header value (RFC 5322 §3.4, with
// the obsolete forms of §4.4: a source route, empty list elements, comments
// anywhere) into IMAP envelope addresses (RFC 9051 §7.5.2, "address"): a
// group becomes a start marker (NIL NIL name NIL), its members and an end
// marker (NIL NIL NIL NIL). A source route is kept as the address's ADL
// (go-imap's Address has no field for it: see rawfetch.go). An address
// without a name takes
// its trailing comment as name ("user@domain (Real Name)"), as mail
// readers show it. What cannot be read ends the list: the addresses before
// it are kept.
func parseAddressList(value string) []envAddress {
	p := &addressParser{s: value}
	var out []envAddress
	for {
		p.skipCFWS()
		if p.eof() {
			return out
		}
		if p.take(',') {
			continue // obs-addr-list: an empty element
		}
		addrs, ok := p.address()
		if !ok {
			return out
		}
		out = append(out, addrs...)
		p.skipCFWS()
		if !p.take(',') && !p.eof() {
			return out
		}
	}
}

// envAddress is an envelope address with its source route, "@a,@b"
// (RFC 9051 §7.5.2, addr-adl; RFC 5322 §4.4, obs-route).
type envAddress struct {
	imap.Address
	Route string
}

// imapAddresses drops the routes, for go-imap's writer.
func imapAddresses(l []envAddress) []imap.Address {
	if l == nil {
		return nil
	}
	out := make([]imap.Address, len(l))
	for i, a := range l {
		out[i] = a.Address
	}
	return out
}

// addressParser walks a header value.
type addressParser struct {
	s       string
	i       int
	comment string // the last comment skipped, for a name-less address
}

func (p *addressParser) eof() bool { return p.i >= len(p.s) }

func (p *addressParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}

func (p *addressParser) take(c byte) bool {
	if p.peek() == c && !p.eof() {
		p.i++
		return true
	}
	return false
}

// address reads a mailbox or a group.
func (p *addressParser) address() ([]envAddress, bool) {
	start := p.i
	p.comment = ""
	phrase := p.phrase()
	p.skipCFWS()
	switch {
	case p.take(':'):
		return p.group(phrase)
	case p.peek() == '<':
		a, ok := p.angleAddr()
		a.Name = decodePhrase(phrase)
		return []envAddress{a}, ok
	}
	// An addr-spec: read again from the start, as the local part.
	p.i = start
	a, ok := p.addrSpec()
	if ok {
		p.comment = ""
		p.skipCFWS()
		a.Name = decodePhrase(strings.TrimSpace(p.comment))
	}
	return []envAddress{{Address: a}}, ok
}

// group reads the rest of "name: member, member;".
func (p *addressParser) group(name string) ([]envAddress, bool) {
	out := []envAddress{{Address: imap.Address{Mailbox: decodePhrase(name)}}}
	end := envAddress{}
	for {
		p.skipCFWS()
		switch {
		case p.take(';'):
			return append(out, end), true
		case p.eof():
			return append(out, end), true // unterminated: close it
		case p.take(','):
			continue
		}
		member, ok := p.address()
		if !ok {
			return append(out, end), false
		}
		out = append(out, member...)
	}
}

// angleAddr reads "<[@route,@route:]local@domain>".
func (p *addressParser) angleAddr() (envAddress, bool) {
	p.take('<')
	p.skipCFWS()
	var route string
	if p.peek() == '@' {
		// obs-route: obs-domain-list ":" (RFC 5322 §4.4).
		end := strings.IndexByte(p.s[p.i:], ':')
		if end < 0 {
			return envAddress{}, false
		}
		route = strings.Join(strings.Fields(p.s[p.i:p.i+end]), "")
		p.i += end + 1
	}
	a, ok := p.addrSpec()
	p.skipCFWS()
	return envAddress{Address: a, Route: route}, ok && p.take('>')
}

// addrSpec reads "local@domain"; a missing domain gives UW imapd's
// conventional ".MISSING-HOST-NAME.", as an empty host would read as a
// group marker.
func (p *addressParser) addrSpec() (imap.Address, bool) {
	local := p.dotWords()
	if local == "" {
		return imap.Address{}, false
	}
	p.skipCFWS()
	if !p.take('@') {
		return imap.Address{Mailbox: local, Host: ".MISSING-HOST-NAME."}, true
	}
	p.skipCFWS()
	var domain string
	if p.peek() == '[' {
		end := strings.IndexByte(p.s[p.i:], ']')
		if end < 0 {
			return imap.Address{}, false
		}
		domain = p.s[p.i : p.i+end+1]
		p.i += end + 1
	} else {
		domain = p.dotWords()
	}
	return imap.Address{Mailbox: local, Host: domain}, domain != ""
}

// dotWords reads words (atoms or quoted strings) joined by dots, with
// comments and folding allowed around each (obs-local-part, obs-domain).
func (p *addressParser) dotWords() string {
	var b strings.Builder
	for {
		p.skipCFWS()
		w, ok := p.word()
		if !ok {
			return b.String()
		}
		b.WriteString(w)
		// Look past CFWS for a dot; without one, leave what follows (a
		// trailing comment may be the name) unread.
		save, saveComment := p.i, p.comment
		p.skipCFWS()
		if !p.take('.') {
			p.i, p.comment = save, saveComment
			return b.String()
		}
		b.WriteByte('.')
	}
}

// phrase reads a display name: words and dots (obs-phrase), space-joined.
func (p *addressParser) phrase() string {
	var words []string
	for {
		p.skipCFWS()
		if p.take('.') {
			words = append(words, ".")
			continue
		}
		w, ok := p.word()
		if !ok {
			return strings.Join(words, " ")
		}
		words = append(words, w)
	}
}

// word reads an atom or a quoted string (RFC 5322 §3.2.3, §3.2.4).
func (p *addressParser) word() (string, bool) {
	if p.take('"') {
		var b strings.Builder
		for !p.eof() {
			c := p.s[p.i]
			p.i++
			switch {
			case c == '"':
				return b.String(), true
			case c == '\\' && !p.eof():
				b.WriteByte(p.s[p.i])
				p.i++
			case c != '\r' && c != '\n':
				b.WriteByte(c)
			}
		}
		return b.String(), true
	}
	start := p.i
	for !p.eof() && isAtext(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i], p.i > start
}

// isAtext: the atom characters of RFC 5322 §3.2.3, and any octet above
// 127 (RFC 6532 §3.2).
func isAtext(c byte) bool {
	return c >= 0x80 || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// skipCFWS skips white space and comments (RFC 5322 §3.2.2), keeping the
// last comment's text.
func (p *addressParser) skipCFWS() {
	for !p.eof() {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			p.i++
		case c == '(':
			p.comment = p.readComment()
		default:
			return
		}
	}
}

// readComment reads a comment, nested ones included.
func (p *addressParser) readComment() string {
	var b strings.Builder
	depth := 0
	for !p.eof() {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\' && !p.eof():
			b.WriteByte(p.s[p.i])
			p.i++
			continue
		case c == '(':
			depth++
			if depth == 1 {
				continue
			}
		case c == ')':
			depth--
			if depth == 0 {
				return b.String()
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// decodePhrase decodes RFC 2047 encoded words in a display name.
func decodePhrase(s string) string {
	if d, err := new(mime.WordDecoder).DecodeHeader(s); err == nil {
		return d
	}
	return s
}
