package imapsuite

import (
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/seed"
)

// namespace is where the user's own mailboxes live: the prefix of the
// personal namespace and the hierarchy delimiter (RFC 2342; RFC 9051
// §6.3.10). Courier and Cyrus keep them under "INBOX." and refuse a
// mailbox at the top level; most servers use no prefix.
type namespace struct {
	prefix string
	delim  string // "" when the server has no hierarchy (NIL)
}

// personal learns the personal namespace once per session: from NAMESPACE
// when the server offers it (IMAP4rev2 includes it), else from LIST "" "",
// which gives the delimiter, with no prefix (RFC 9051 §6.3.9: LIST with an
// empty name returns the hierarchy delimiter). A server answering neither
// gets the top level and no delimiter: the names the suite builds then
// need neither.
func (s *session) personal() namespace {
	if s.ns != nil {
		return *s.ns
	}
	ns := namespace{}
	found := false
	if s.has("NAMESPACE") || s.has("IMAP4REV2") {
		if r, err := s.cmd("NAMESPACE"); err == nil && r.OK() {
			for _, u := range r.Of("NAMESPACE") {
				ns, found = parsePersonal(u)
			}
		}
	}
	if !found {
		if r, err := s.cmd(`LIST "" ""`); err == nil && r.OK() {
			for _, u := range r.Of("LIST") {
				ns.delim = listDelimiter(u)
			}
		}
	}
	s.ns = &ns
	return ns
}

// parsePersonal reads the first descriptor of the personal namespace from
// "* NAMESPACE ((prefix delim) …) other shared"; false when the response
// is malformed or the personal namespace is NIL.
func parsePersonal(r *response) (namespace, bool) {
	p := &parser{s: r.Text, lits: r.Lits}
	if _, err := p.atom(ruleNamespace); err != nil || p.sp(ruleNamespace) != nil {
		return namespace{}, false
	}
	if !strings.HasPrefix(p.s[p.pos:], "((") {
		return namespace{}, false
	}
	p.pos += 2
	prefix, ok := p.stringValue()
	if !ok || p.sp(ruleNamespace) != nil {
		return namespace{}, false
	}
	var delim string
	if err := p.nilOr(func() error {
		d, ok := p.stringValue()
		if !ok {
			return p.fail(ruleNamespace, "delimiter expected")
		}
		delim = d
		return nil
	}); err != nil {
		return namespace{}, false
	}
	return namespace{prefix: prefix, delim: delim}, true
}

// stringValue reads a quoted string or a literal and returns its content.
func (p *parser) stringValue() (string, bool) {
	start, lit := p.pos, p.lit
	if p.str(ruleNamespace) != nil {
		return "", false
	}
	if p.lit > lit {
		return string(p.lits[lit]), true
	}
	q := p.s[start+1 : p.pos-1]
	return strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(q), true
}

// listDelimiter is the delimiter of "* LIST (…) "." name"; "" for NIL or
// a malformed response.
func listDelimiter(r *response) string {
	p := &parser{s: r.Text, lits: r.Lits}
	if _, err := p.atom(ruleList); err != nil || p.sp(ruleList) != nil {
		return ""
	}
	if p.list(ruleList, func() error { return p.flag(ruleList) }) != nil || p.sp(ruleList) != nil {
		return ""
	}
	d, _ := p.stringValue()
	return d
}

// mailboxName is leaf as a mailbox of the personal namespace, ready for a
// command line: the leaf never holds the delimiter (it would make a
// hierarchy), and the name is quoted unless it is an atom.
func (s *session) mailboxName(leaf string) string {
	ns := s.personal()
	if ns.delim != "" {
		leaf = strings.ReplaceAll(leaf, ns.delim, "_")
	}
	return astring(ns.prefix + leaf)
}

// astring is name as an IMAP astring: itself when every octet is an
// ASTRING-CHAR, else a quoted string.
func astring(name string) string {
	for i := 0; i < len(name); i++ {
		if !isAtomChar(name[i]) && name[i] != ']' {
			return quote(name)
		}
	}
	if name == "" {
		return `""`
	}
	return name
}

// scratch creates a mailbox of the check's own, with a name no one else
// uses, in the personal namespace; drop deletes it. A refused CREATE is an
// unmet precondition (engine.Unmet) quoting the reply: the check's subject
// is elsewhere, and imap.create.* judge CREATE.
func (s *session) scratch() (string, error) {
	name := s.mailboxName("mailcheck-" + seed.Nonce())
	r, err := s.cmd("CREATE " + name)
	if err != nil {
		return "", err
	}
	if !r.OK() {
		return "", engine.Unmet("CREATE %s answered %s: the check needs a mailbox of its own", name, r.Done)
	}
	return name, nil
}

// absentName is a mailbox name in the personal namespace that does not
// exist: where the server would put it if it did.
func (s *session) absentName() string { return s.mailboxName("mailcheck-absent-" + seed.Nonce()) }
