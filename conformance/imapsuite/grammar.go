package imapsuite

import (
	"fmt"
	"strconv"
	"strings"
)

// The grammar of the responses the suite reads, from RFC 9051 §9 (and
// RFC 3501 §9 where IMAP4rev1 differs: SEARCH, RECENT, LSUB). A response
// reaches the checker as read() leaves it: tag, text with its literals
// taken out ("{n}" markers stay) and the literals apart.

// Rules quoted in verdicts, word for word from RFC 9051 §9.
const (
	ruleResponseData = `response-data = "*" SP (resp-cond-state / resp-cond-bye / mailbox-data / message-data / capability-data / enable-data) CRLF`
	ruleTagged       = `response-tagged = tag SP resp-cond-state CRLF; resp-cond-state = ("OK" / "NO" / "BAD") SP resp-text`
	ruleTag          = `tag = 1*<any ASTRING-CHAR except "+">`
	ruleCondState    = `resp-cond-state = ("OK" / "NO" / "BAD") SP resp-text`
	ruleRespText     = `resp-text = ["[" resp-text-code "]" SP] [text]`
	ruleCodePlace    = `resp-text = ["[" resp-text-code "]" SP] [text]: a response code stands directly after the status word, before any text`
	ruleCode         = `resp-text-code = "ALERT" / … / atom [SP 1*<any TEXT-CHAR except "]">]`
	ruleMessageData  = `message-data = nz-number SP ("EXPUNGE" / ("FETCH" SP msg-att)); mailbox-data =/ number SP "EXISTS"`
	ruleMsgAtt       = `msg-att = "(" (msg-att-dynamic / msg-att-static) *(SP (msg-att-dynamic / msg-att-static)) ")"`
	ruleFlagList     = `flag-list = "(" [flag *(SP flag)] ")"`
	ruleList         = `mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox [SP mbox-list-extended]`
	ruleStatus       = `mailbox-data =/ "STATUS" SP mailbox SP "(" [status-att-list] ")"; status-att-val = status-att SP number`
	ruleSearch       = `mailbox-data =/ "SEARCH" *(SP nz-number) (RFC 3501 §9)`
	ruleCapability   = `capability-data = "CAPABILITY" *(SP capability) SP "IMAP4rev2" *(SP capability); capability = ("AUTH=" auth-type) / atom`
	ruleNamespace    = `namespace-response = namespace SP namespace SP namespace; namespace = nil / "(" 1*namespace-descr ")"`
	ruleValue        = `atom / number / string / nil / "(" … ")": a well-formed value with balanced parentheses and quotes, and literals as long as announced`
)

// knownCodes are the response codes of RFC 9051 §7.1 and of the
// extensions a server may send to the suite's commands (RFC 4315, RFC
// 7162): one of them standing after text is a misplaced code, not text.
var knownCodes = map[string]bool{
	"ALERT": true, "ALREADYEXISTS": true, "APPENDUID": true, "AUTHENTICATIONFAILED": true,
	"AUTHORIZATIONFAILED": true, "BADCHARSET": true, "CANNOT": true, "CAPABILITY": true,
	"CLIENTBUG": true, "CLOSED": true, "CONTACTADMIN": true, "COPYUID": true, "CORRUPTION": true,
	"EXPIRED": true, "EXPUNGEISSUED": true, "HASCHILDREN": true, "INUSE": true, "LIMIT": true,
	"NONEXISTENT": true, "NOPERM": true, "OVERQUOTA": true, "PARSE": true, "PERMANENTFLAGS": true,
	"PRIVACYREQUIRED": true, "READ-ONLY": true, "READ-WRITE": true, "SERVERBUG": true,
	"TRYCREATE": true, "UIDNEXT": true, "UIDNOTSTICKY": true, "UIDVALIDITY": true,
	"UNAVAILABLE": true, "UNKNOWN-CTE": true, "UNSEEN": true, "HIGHESTMODSEQ": true,
	"NOMODSEQ": true, "MODIFIED": true,
}

// extensionResponses are untagged responses of registered extensions
// (IANA "IMAP Response Codes"/"IMAP Capabilities" registries: ESEARCH,
// ID, QUOTA, METADATA, ACL, CONDSTORE/QRESYNC, SORT, THREAD, LANGUAGE,
// COMPARATOR, CONVERT, URLAUTH, LIST-EXTENDED's XLIST predecessor): known
// names, checked only for well-formed values.
var extensionResponses = map[string]bool{
	"ESEARCH": true, "ID": true, "QUOTA": true, "QUOTAROOT": true, "METADATA": true,
	"ACL": true, "LISTRIGHTS": true, "MYRIGHTS": true, "VANISHED": true, "SORT": true,
	"THREAD": true, "LANGUAGE": true, "COMPARATOR": true, "CONVERTED": true,
	"GENURLAUTH": true, "URLFETCH": true, "XLIST": true, "ANNOTATION": true,
}

// malformation reads one response against the grammar and returns the
// rule it breaks, with what breaks it; "" when it is well formed. It is a
// pure function of its input, safe on any bytes (see FuzzMalformation).
func malformation(tag, text string, lits [][]byte) string {
	p := &parser{s: text, lits: lits}
	var err error
	switch tag {
	case "+":
		// continue-req = "+" SP (resp-text / base64): base64 is resp-text
		// as far as its characters go. "+" and "+ " look alike once read;
		// both are taken.
		err = p.respText()
	case "*":
		err = p.untagged()
	default:
		err = p.tagged(tag)
	}
	if err == nil && p.pos < len(p.s) {
		err = p.fail(ruleValue, "text left over")
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// grammarError is a rule broken at a position.
type grammarError struct {
	rule, what string
	at         int
}

func (e *grammarError) Error() string {
	return fmt.Sprintf("%s (at octet %d: %s)", e.rule, e.at, e.what)
}

// parser walks the text of one response.
type parser struct {
	s    string
	pos  int
	lits [][]byte
	lit  int // literals consumed
}

func (p *parser) fail(rule, what string) error {
	return &grammarError{rule: rule, what: what, at: p.pos}
}

func (p *parser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *parser) done() bool { return p.pos >= len(p.s) }

func (p *parser) sp(rule string) error {
	if p.peek() != ' ' {
		return p.fail(rule, "SP expected")
	}
	p.pos++
	return nil
}

// isAtomChar: ATOM-CHAR = <any CHAR except atom-specials>; atom-specials =
// "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials /
// resp-specials.
func isAtomChar(c byte) bool {
	return c > 0x20 && c < 0x7f && !strings.ContainsRune(`(){%*"\]`, rune(c))
}

// word reads 1*ATOM-CHAR, also allowing extra (e.g. "]" for ASTRING-CHAR).
func (p *parser) word(extra string) string {
	start := p.pos
	for !p.done() && (isAtomChar(p.peek()) || strings.IndexByte(extra, p.peek()) >= 0) {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *parser) atom(rule string) (string, error) {
	if w := p.word(""); w != "" {
		return w, nil
	}
	return "", p.fail(rule, "atom expected")
}

func (p *parser) number(rule string, nonZero bool) error {
	start := p.pos
	for !p.done() && p.peek() >= '0' && p.peek() <= '9' {
		p.pos++
	}
	n, err := strconv.ParseUint(p.s[start:p.pos], 10, 32)
	if start == p.pos || err != nil || nonZero && n == 0 {
		p.pos = start
		return p.fail(rule, "number expected")
	}
	return nil
}

// str reads string = quoted / literal.
func (p *parser) str(rule string) error {
	switch p.peek() {
	case '"':
		p.pos++
		for !p.done() {
			switch c := p.peek(); c {
			case '"':
				p.pos++
				return nil
			case '\\':
				p.pos++
				if c := p.peek(); c != '"' && c != '\\' {
					return p.fail(rule, `quoted-specials only after "\"`)
				}
			case 0, '\r', '\n':
				return p.fail(rule, "NUL, CR or LF in a quoted string")
			}
			p.pos++
		}
		return p.fail(rule, "unterminated quoted string")
	case '{', '~':
		return p.literal(rule)
	}
	return p.fail(rule, "string expected")
}

// literal reads "{n}" or "~{n}" and takes its data from lits, which must
// hold n octets.
func (p *parser) literal(rule string) error {
	if p.peek() == '~' {
		p.pos++
	}
	if p.peek() != '{' {
		return p.fail(rule, "literal expected")
	}
	end := strings.IndexByte(p.s[p.pos:], '}')
	if end < 0 {
		return p.fail(rule, "unterminated literal marker")
	}
	n, err := strconv.Atoi(strings.TrimSuffix(p.s[p.pos+1:p.pos+end], "+"))
	if err != nil || n < 0 {
		return p.fail(rule, "literal length is not a number")
	}
	if p.lit >= len(p.lits) || len(p.lits[p.lit]) != n {
		return p.fail(rule, "literal shorter than announced")
	}
	p.lit++
	p.pos += end + 1
	return nil
}

// astring = 1*ASTRING-CHAR / string.
func (p *parser) astring(rule string) error {
	if c := p.peek(); c == '"' || c == '{' || c == '~' {
		return p.str(rule)
	}
	if p.word("]") == "" {
		return p.fail(rule, "astring expected")
	}
	return nil
}

// nilOr reads NIL or what read reads.
func (p *parser) nilOr(read func() error) error {
	if strings.HasPrefix(strings.ToUpper(p.s[p.pos:]), "NIL") && !isAtomChar(p.at(p.pos+3)) {
		p.pos += 3
		return nil
	}
	return read()
}

func (p *parser) at(i int) byte {
	if i < len(p.s) {
		return p.s[i]
	}
	return 0
}

// list reads "(" [item *(SP item)] ")".
func (p *parser) list(rule string, item func() error) error {
	if p.peek() != '(' {
		return p.fail(rule, `"(" expected`)
	}
	p.pos++
	for first := true; p.peek() != ')'; first = false {
		if !first {
			if err := p.sp(rule); err != nil {
				return err
			}
		}
		if err := item(); err != nil {
			return err
		}
	}
	p.pos++
	return nil
}

// value reads any well-formed value: a parenthesized list of values, a
// string, or an atom-like word (numbers, NIL, and fetch attribute names
// with their "[section]<origin>" included).
func (p *parser) value() error {
	switch p.peek() {
	case '(':
		return p.list(ruleValue, p.value)
	case '"', '{', '~':
		return p.str(ruleValue)
	}
	start := p.pos
	for !p.done() {
		c := p.peek()
		if c == '[' {
			end := strings.IndexByte(p.s[p.pos:], ']')
			if end < 0 {
				return p.fail(ruleValue, `"[" without "]"`)
			}
			p.pos += end + 1
			continue
		}
		if !isAtomChar(c) && c != '\\' && c != '*' && c != '%' {
			break
		}
		p.pos++
	}
	if start == p.pos {
		return p.fail(ruleValue, "value expected")
	}
	return nil
}

// values reads *(SP value) to the end of the text.
func (p *parser) values() error {
	for !p.done() {
		if err := p.sp(ruleValue); err != nil {
			return err
		}
		if err := p.value(); err != nil {
			return err
		}
	}
	return nil
}

// flag = "\" atom / atom (flag-perm adds "\*").
func (p *parser) flag(rule string) error {
	if p.peek() == '\\' {
		p.pos++
		if p.peek() == '*' {
			p.pos++
			return nil
		}
	}
	_, err := p.atom(rule)
	return err
}

func (p *parser) tagged(tag string) error {
	if tag == "" || strings.ContainsFunc(tag, func(r rune) bool { return r > 0x7f || !isAtomChar(byte(r)) && r != ']' }) {
		return p.fail(ruleTag, fmt.Sprintf("tag %q", tag))
	}
	w, _ := p.atom(ruleTagged)
	switch strings.ToUpper(w) {
	case "OK", "NO", "BAD":
		return p.condText(ruleCondState)
	}
	return p.fail(ruleTagged, fmt.Sprintf("status %q", w))
}

// condText reads SP resp-text after a status word.
func (p *parser) condText(rule string) error {
	if err := p.sp(rule); err != nil {
		return err
	}
	return p.respText()
}

func (p *parser) untagged() error {
	if c := p.peek(); c >= '0' && c <= '9' {
		return p.messageData()
	}
	w, err := p.atom(ruleResponseData)
	if err != nil {
		return err
	}
	switch name := strings.ToUpper(w); name {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
		return p.condText(ruleResponseData)
	case "CAPABILITY", "ENABLED":
		return p.capabilities()
	case "FLAGS":
		if err := p.sp(ruleFlagList); err != nil {
			return err
		}
		return p.list(ruleFlagList, func() error { return p.flag(ruleFlagList) })
	case "LIST", "LSUB":
		return p.mailboxList()
	case "STATUS":
		return p.status()
	case "SEARCH":
		return p.search()
	case "NAMESPACE":
		return p.namespaces()
	default:
		if extensionResponses[name] {
			return p.values()
		}
		p.pos = 0
		return p.fail(ruleResponseData, fmt.Sprintf("unknown response %q", w))
	}
}

// messageData reads "n EXISTS", "n RECENT", "n EXPUNGE" or "n FETCH (…)".
func (p *parser) messageData() error {
	if err := p.number(ruleMessageData, false); err != nil {
		return err
	}
	nonZero := p.s[0] != '0'
	if err := p.sp(ruleMessageData); err != nil {
		return err
	}
	start := p.pos
	w, _ := p.atom(ruleMessageData)
	switch strings.ToUpper(w) {
	case "EXISTS", "RECENT":
		return nil
	case "EXPUNGE":
		if !nonZero {
			return p.fail(ruleMessageData, "EXPUNGE of message 0")
		}
		return nil
	case "FETCH":
		if !nonZero {
			return p.fail(ruleMessageData, "FETCH of message 0")
		}
		if err := p.sp(ruleMsgAtt); err != nil {
			return err
		}
		return p.msgAtt()
	}
	p.pos = start
	return p.fail(ruleMessageData, fmt.Sprintf("%q after the number", w))
}

// msgAtt reads "(" name SP value *(SP name SP value) ")".
func (p *parser) msgAtt() error {
	if p.peek() != '(' {
		return p.fail(ruleMsgAtt, `"(" expected`)
	}
	p.pos++
	for first := true; ; first = false {
		if p.peek() == ')' && !first {
			p.pos++
			return nil
		}
		if !first {
			if err := p.sp(ruleMsgAtt); err != nil {
				return err
			}
		}
		start := p.pos
		if err := p.value(); err != nil || strings.IndexByte(`("{~`, p.s[start]) >= 0 {
			p.pos = start
			return p.fail(ruleMsgAtt, "attribute name expected")
		}
		name := strings.ToUpper(p.s[start:p.pos])
		if err := p.sp(ruleMsgAtt); err != nil {
			return err
		}
		var err error
		switch name {
		case "UID":
			err = p.number(ruleMsgAtt+`; "UID" SP uniqueid`, true)
		case "RFC822.SIZE":
			err = p.number(ruleMsgAtt+`; "RFC822.SIZE" SP number64`, false)
		case "FLAGS":
			err = p.list(ruleFlagList, func() error { return p.flag(ruleFlagList) })
		default:
			err = p.value()
		}
		if err != nil {
			return err
		}
	}
}

// capabilities reads *(SP capability), up to the end of the text or of
// the response code it stands in.
func (p *parser) capabilities() error {
	for !p.done() && p.peek() != ']' {
		if err := p.sp(ruleCapability); err != nil {
			return err
		}
		if _, err := p.atom(ruleCapability); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) mailboxList() error {
	if err := p.sp(ruleList); err != nil {
		return err
	}
	if err := p.list(ruleList, func() error { return p.flag(ruleList) }); err != nil {
		return err
	}
	if err := p.sp(ruleList); err != nil {
		return err
	}
	if err := p.nilOr(func() error {
		start := p.pos
		err := p.str(ruleList)
		n := p.pos - start
		if err != nil || p.s[start] != '"' || (n != 3 && (n != 4 || p.s[start+1] != '\\')) {
			p.pos = start
			return p.fail(ruleList, "the delimiter is one quoted character or NIL")
		}
		return nil
	}); err != nil {
		return err
	}
	if err := p.sp(ruleList); err != nil {
		return err
	}
	if err := p.astring(ruleList); err != nil {
		return err
	}
	return p.values()
}

func (p *parser) status() error {
	if err := p.sp(ruleStatus); err != nil {
		return err
	}
	if err := p.astring(ruleStatus); err != nil {
		return err
	}
	if err := p.sp(ruleStatus); err != nil {
		return err
	}
	return p.list(ruleStatus, func() error {
		if _, err := p.atom(ruleStatus); err != nil {
			return err
		}
		if err := p.sp(ruleStatus); err != nil {
			return err
		}
		// number64 for SIZE and HIGHESTMODSEQ (RFC 9051 §9, RFC 7162).
		start := p.pos
		for !p.done() && p.peek() >= '0' && p.peek() <= '9' {
			p.pos++
		}
		if start == p.pos {
			return p.fail(ruleStatus, "number expected")
		}
		return nil
	})
}

func (p *parser) search() error {
	for !p.done() {
		if err := p.sp(ruleSearch); err != nil {
			return err
		}
		if p.peek() == '(' { // search-sort-mod-seq (RFC 7162 §7)
			return p.value()
		}
		if err := p.number(ruleSearch, true); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) namespaces() error {
	for range 3 {
		if err := p.sp(ruleNamespace); err != nil {
			return err
		}
		if err := p.nilOr(func() error {
			if p.peek() != '(' {
				return p.fail(ruleNamespace, `"(" or NIL expected`)
			}
			// "(" 1*namespace-descr ")", each descriptor a list.
			p.pos++
			for p.peek() == '(' {
				if err := p.value(); err != nil {
					return err
				}
			}
			if p.peek() != ')' {
				return p.fail(ruleNamespace, "namespace-descr expected")
			}
			p.pos++
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// respText reads resp-text: an optional response code right at the start,
// then text. A known code standing later in the text is misplaced.
func (p *parser) respText() error {
	if p.peek() == '[' {
		if err := p.code(); err != nil {
			return err
		}
		// RFC 9051 asks for SP after "]"; "[CODE]" ending the line is
		// taken, as most clients take it (text became optional in RFC
		// 9051 and the SP is then the only thing missing).
		if p.done() {
			return nil
		}
		if err := p.sp(ruleRespText); err != nil {
			return err
		}
	}
	rest := p.s[p.pos:]
	if i := strings.IndexAny(rest, "\x00\r\n"); i >= 0 {
		p.pos += i
		return p.fail(ruleRespText, "NUL, CR or LF in text")
	}
	if i := misplacedCode(rest); i >= 0 {
		p.pos += i
		return p.fail(ruleCodePlace, "response code after text")
	}
	p.pos = len(p.s)
	return nil
}

// misplacedCode is the index of a known response code ("[TRYCREATE]",
// "[UIDNEXT 4]") inside text; -1 if none.
func misplacedCode(text string) int {
	for i := 0; i < len(text); i++ {
		if text[i] != '[' {
			continue
		}
		j := i + 1
		for j < len(text) && isAtomChar(text[j]) {
			j++
		}
		if j < len(text) && (text[j] == ']' || text[j] == ' ') && knownCodes[strings.ToUpper(text[i+1:j])] {
			return i
		}
	}
	return -1
}

// codeArgs are the response codes that take an argument (RFC 9051 §9,
// RFC 4315).
var codeArgs = map[string]bool{
	"UIDNEXT": true, "UIDVALIDITY": true, "UNSEEN": true, "PERMANENTFLAGS": true,
	"CAPABILITY": true, "APPENDUID": true, "COPYUID": true, "HIGHESTMODSEQ": true,
}

// code reads "[" resp-text-code "]".
func (p *parser) code() error {
	p.pos++
	name, err := p.atom(ruleCode)
	if err != nil {
		return err
	}
	if p.peek() != ' ' && codeArgs[strings.ToUpper(name)] {
		return p.fail(ruleCode, name+" without its argument")
	}
	if p.peek() == ' ' {
		p.pos++
		start := p.pos
		switch strings.ToUpper(name) {
		case "UIDNEXT", "UIDVALIDITY", "UNSEEN":
			err = p.number(ruleCode+`; "`+strings.ToUpper(name)+`" SP nz-number`, true)
		case "PERMANENTFLAGS":
			err = p.list(`"PERMANENTFLAGS" SP "(" [flag-perm *(SP flag-perm)] ")"`, func() error { return p.flag(ruleCode) })
		case "CAPABILITY":
			p.pos--
			err = p.capabilities()
		default:
			for !p.done() && p.peek() != ']' && p.peek() >= 0x20 {
				p.pos++
			}
		}
		if err != nil {
			return err
		}
		if p.pos == start {
			return p.fail(ruleCode, "code argument expected after SP")
		}
	}
	if p.peek() != ']' {
		return p.fail(ruleCode, `"]" expected`)
	}
	p.pos++
	return nil
}
