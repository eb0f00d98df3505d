package imapsuite

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/bounds"
	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/seed"
	"github.com/mailcheck/mailcheck/imap/imapwire"
)

// response is one server response, as imapwire reads it (RFC 9051
// §2.2.2): literals out of the text, in Lits.
type response = imapwire.Response

// result is what a command got: the untagged responses and the tagged one.
type result struct {
	Untagged []*response
	Done     *response
}

// OK reports whether the command completed with OK.
func (r *result) OK() bool { return r.Done.Kind() == "OK" }

// Status is the tagged response's kind: "OK", "NO" or "BAD".
func (r *result) Status() string { return r.Done.Kind() }

// Of returns the untagged responses of a kind ("EXISTS", "FETCH", …).
func (r *result) Of(kind string) []*response {
	var out []*response
	for _, u := range r.Untagged {
		if u.Kind() == kind {
			out = append(out, u)
		}
	}
	return out
}

// session is one IMAP connection of a check.
type session struct {
	t        *engine.T
	c        *engine.Conn
	rd       *imapwire.Reader
	tags     int
	greeting *response
	caps     map[string]bool
	authed   bool
	selected bool
	// broken is set once an I/O error leaves the connection unusable.
	broken bool
	// ns is the personal namespace, once learnt (namespace.go).
	ns *namespace
	// malformed are the responses read that break the grammar (syntax.go).
	malformed []violation
}

// dial connects and reads the greeting, which must be OK or PREAUTH for the
// check to go on.
func dial(ctx context.Context, t *engine.T) (*session, error) {
	c, err := t.Dial(ctx)
	if err != nil {
		return nil, err
	}
	s := &session{t: t, c: c, rd: imapwire.NewReader(c, suitePolicy(t))}
	g, err := s.read()
	if err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	s.greeting = g
	switch {
	case g.Tag == "*" && g.Kind() == "OK":
	case g.Tag == "*" && g.Kind() == "PREAUTH":
		s.authed = true
	case g.Tag == "*" && g.Kind() == "BYE":
		// RFC 9051 §7.1.5: the server "is not willing to accept a
		// connection" now; the runner tries the check again later.
		return nil, engine.Busy("greeting %q", g)
	default:
		return nil, engine.Unmet("greeting %q: the server does not offer service (imap.greeting.ok judges the greeting)", g)
	}
	if g.CodeIs("CAPABILITY") {
		s.setCaps(g.Code())
	}
	return s, nil
}

// login is dial plus authentication with the target's credentials, over
// TLS when the server offers STARTTLS. Without credentials the check is
// skipped and login returns nil.
func login(ctx context.Context, t *engine.T) (*session, error) {
	if t.Target.User == "" {
		t.Skip("needs credentials (imap://user:password@host)")
		return nil, nil
	}
	s, err := dial(ctx, t)
	if err != nil {
		return nil, err
	}
	if s.authed {
		return s, nil
	}
	return s, s.authenticate()
}

// authenticate upgrades to TLS when STARTTLS is offered (credentials never
// go out in clear text when TLS is available) and logs in with LOGIN, or
// AUTHENTICATE PLAIN when LOGIN is disabled.
func (s *session) authenticate() error {
	if s.caps == nil {
		if err := s.capability(); err != nil {
			return err
		}
	}
	if s.has("STARTTLS") && !s.c.TLS() {
		r, err := s.cmd("STARTTLS")
		if err != nil {
			return err
		}
		if !r.OK() {
			return fmt.Errorf("STARTTLS answered %s", r.Done)
		}
		if err := s.c.StartTLS(); err != nil {
			return err
		}
		// RFC 9051 §6.2.1: capabilities learnt before TLS are void.
		if err := s.capability(); err != nil {
			return err
		}
	}
	user, pass := s.t.Target.User, s.t.Target.Password
	var r *result
	var err error
	if s.has("LOGINDISABLED") {
		if !s.has("AUTH=PLAIN") {
			return errors.New("LOGIN is disabled (LOGINDISABLED) and neither STARTTLS nor AUTH=PLAIN is offered")
		}
		r, err = s.authenticatePlain(user, pass)
	} else {
		r, err = s.cmd("LOGIN " + quote(user) + " " + quote(pass))
	}
	if err != nil {
		return err
	}
	if busyNO(r) {
		return engine.Busy("logging in with the target's credentials: %s", r.Done)
	}
	if !r.OK() {
		return fmt.Errorf("logging in with the target's credentials: %s", r.Done)
	}
	s.authed = true
	if r.Done.CodeIs("CAPABILITY") {
		s.setCaps(r.Done.Code())
		return nil
	}
	return s.capability()
}

// authenticatePlain runs AUTHENTICATE PLAIN (RFC 4616) with the initial
// response after a continuation request.
func (s *session) authenticatePlain(user, pass string) (*result, error) {
	tag := s.nextTag()
	if err := s.send(tag + " AUTHENTICATE PLAIN"); err != nil {
		return nil, err
	}
	res, cont, err := s.readUntil(tag, true)
	if err != nil || !cont {
		return res, err
	}
	if err := s.send(base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))); err != nil {
		return nil, err
	}
	res, _, err = s.readUntil(tag, false)
	return res, err
}

// capability asks for the capabilities and records them.
func (s *session) capability() error {
	r, err := s.cmd("CAPABILITY")
	if err != nil {
		return err
	}
	caps := r.Of("CAPABILITY")
	if !r.OK() || len(caps) == 0 {
		return fmt.Errorf("CAPABILITY answered %s", r.Done)
	}
	s.setCaps(caps[0].Text)
	return nil
}

// setCaps records the capabilities of "CAPABILITY cap…" (a CAPABILITY
// response or response code).
func (s *session) setCaps(list string) {
	s.caps = make(map[string]bool)
	for i, c := range strings.Fields(list) {
		if i > 0 {
			s.caps[strings.ToUpper(c)] = true
		}
	}
}

func (s *session) has(capability string) bool { return s.caps[strings.ToUpper(capability)] }

// uidExpunge reports whether UID EXPUNGE is available (RFC 4315 UIDPLUS,
// part of IMAP4rev2): without it the suite does not delete single
// messages in mailboxes it does not own.
func (s *session) uidExpunge() bool { return s.has("UIDPLUS") || s.has("IMAP4REV2") }

func (s *session) nextTag() string {
	s.tags++
	return "mc" + strconv.Itoa(s.tags)
}

func (s *session) send(line string) error {
	if err := s.c.Send(line); err != nil {
		s.broken = true
		return err
	}
	return nil
}

// cmd sends a tagged command and reads up to its tagged response.
func (s *session) cmd(line string) (*result, error) {
	tag := s.nextTag()
	if err := s.send(tag + " " + line); err != nil {
		return nil, err
	}
	res, _, err := s.readUntil(tag, false)
	if err != nil {
		return res, err
	}
	verb, _, _ := strings.Cut(strings.ToUpper(line), " ")
	switch verb {
	case "SELECT", "EXAMINE":
		// RFC 9051 §6.3.2: a failed SELECT leaves no mailbox selected.
		s.selected = res.OK()
	case "CLOSE", "UNSELECT":
		s.selected = s.selected && !res.OK()
	}
	return res, nil
}

// cmdf is cmd with formatting.
func (s *session) cmdf(format string, args ...any) (*result, error) {
	return s.cmd(fmt.Sprintf(format, args...))
}

// readUntil reads responses up to the tagged one for tag; with stopAtCont
// it stops early at a continuation request and reports it. Every
// response's grammar is noted on the way; a failed read (or a flood past
// imapwire.MaxUntagged) leaves the session broken.
func (s *session) readUntil(tag string, stopAtCont bool) (*result, bool, error) {
	c, err := s.rd.Collect(tag, stopAtCont, s.noteGrammar)
	if err != nil && !errors.Is(err, imapwire.ErrUnexpectedContinuation) {
		s.broken = true
	}
	return &result{Untagged: c.Untagged, Done: c.Done}, c.Continuation, err
}

// maxLiteral bounds a literal the suite reads: its own test messages are a
// few KiB, and a server announcing {2000000000} must not make it allocate
// or wait for gigabytes.
const maxLiteral = 1 << 20

// suitePolicy is the check's read bounds (engine.Options.Bounds), with
// literals held to maxLiteral.
func suitePolicy(t *engine.T) bounds.Policy {
	p := t.Options.Bounds()
	p.Literal = min(p.Literal, maxLiteral)
	return p
}

// read reads one response, literals included; a failed read leaves the
// session broken.
func (s *session) read() (*response, error) {
	r, err := s.rd.Read()
	if err != nil {
		s.broken = true
		return nil, err
	}
	s.noteGrammar(r)
	return r, nil
}

// logout ends the session politely (best effort).
func (s *session) logout() {
	if !s.broken {
		s.cmd("LOGOUT")
	}
	s.c.Close()
}

// quote makes an IMAP quoted string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// drop deletes a mailbox the check created, on this session or, if it is
// broken, on a new one.
func drop(ctx context.Context, t *engine.T, s *session, name string) {
	if s == nil || s.broken || !s.authed {
		var err error
		if s, err = login(ctx, t); s == nil || err != nil {
			t.Note("could not log in to delete mailbox %s: %v", name, err)
			return
		}
		defer s.logout()
	}
	if s.selected {
		if s.has("UNSELECT") || s.has("IMAP4REV2") {
			s.cmd("UNSELECT")
		} else {
			s.cmd("CLOSE")
		}
	}
	if r, err := s.cmd("DELETE " + name); err != nil || !r.OK() {
		t.Note("could not delete mailbox %s", name)
	}
}

// appendMsg appends msg to mailbox with a synchronizing literal. flags is
// "" or a parenthesized list. A refusal comes back as the result, before
// or after the literal was sent.
func (s *session) appendMsg(mailbox, flags string, msg []byte) (*result, error) {
	tag := s.nextTag()
	line := tag + " APPEND " + mailbox
	if flags != "" {
		line += " " + flags
	}
	if err := s.send(line + " {" + strconv.Itoa(len(msg)) + "}"); err != nil {
		return nil, err
	}
	res, cont, err := s.readUntil(tag, true)
	if err == nil && busyNO(res) {
		return res, engine.Busy("APPEND to %s answered %s", mailbox, res.Done)
	}
	if err != nil || !cont {
		return res, err
	}
	if err := s.c.Write(append(slices.Clip(msg), "\r\n"...)); err != nil {
		s.broken = true
		return nil, err
	}
	more, _, err := s.readUntil(tag, false)
	if more != nil {
		more.Untagged = append(res.Untagged, more.Untagged...)
	}
	if err == nil && busyNO(more) {
		return more, engine.Busy("APPEND to %s answered %s", mailbox, more.Done)
	}
	return more, err
}

// busyNO reports whether a command was refused for now, not for good:
// NO [UNAVAILABLE] or [INUSE] (RFC 5530 §3: a subsystem is down, a
// resource is in use), or, without a code, a text saying something is
// locked or to try again (an SQLite-backed server answers "database is
// locked" under load).
func busyNO(r *result) bool {
	if r == nil || r.Done == nil || r.Done.Kind() != "NO" {
		return false
	}
	if r.Done.CodeIs("UNAVAILABLE") || r.Done.CodeIs("INUSE") {
		return true
	}
	text := strings.ToLower(r.Done.Text)
	return r.Done.Code() == "" && (strings.Contains(text, "locked") || strings.Contains(text, "try again"))
}

// add appends msg to mailbox; a refusal is an unmet precondition.
func (s *session) add(mailbox string, msg []byte) error {
	r, err := s.appendMsg(mailbox, "", msg)
	if err != nil {
		return err
	}
	if !r.OK() {
		return engine.Unmet("APPEND to %s answered %s", mailbox, r.Done)
	}
	return nil
}

// must runs a command the check depends on; a refusal is an unmet
// precondition (engine.Unmet). Where the command is the check's subject,
// requireSubject turns the refusal into the check's failure.
func (s *session) must(line string) (*result, error) {
	r, err := s.cmd(line)
	if err != nil {
		return nil, err
	}
	if !r.OK() {
		return nil, engine.Unmet("%s answered %s", line, r.Done)
	}
	return r, nil
}

// fill creates a scratch mailbox holding n test messages and returns its
// name and the messages.
func (s *session) fill(n int) (string, [][]byte, error) {
	name, err := s.scratch()
	if err != nil {
		return "", nil, err
	}
	var msgs [][]byte
	for i := range n {
		msg := seed.Message(s.t, seed.Nonce(), fmt.Sprintf("mailcheck IMAP test message %d", i+1), fmt.Sprintf("Test message %d.\r\n", i+1))
		if err := s.add(name, msg); err != nil {
			return name, nil, err
		}
		msgs = append(msgs, msg)
	}
	return name, msgs, nil
}

// selection is what SELECT or EXAMINE reported.
type selection struct {
	res            *result
	exists         int64 // -1 if not sent
	uidValidity    uint32
	uidNext        uint32
	flags          []string
	hasFlags       bool
	permanentFlags []string
	hasPermanent   bool
}

// open selects (or examines) a mailbox and parses what the server said; a
// refusal is an unmet precondition.
func (s *session) open(name string, examine bool) (*selection, error) {
	verb := "SELECT"
	if examine {
		verb = "EXAMINE"
	}
	r, err := s.cmd(verb + " " + name)
	if err != nil {
		return nil, err
	}
	if busyNO(r) {
		return nil, engine.Busy("%s %s answered %s", verb, name, r.Done)
	}
	if !r.OK() {
		return nil, engine.Unmet("%s %s answered %s", verb, name, r.Done)
	}
	return parseSelection(r), nil
}

func parseSelection(r *result) *selection {
	sel := &selection{res: r, exists: -1}
	for _, u := range r.Untagged {
		switch {
		case u.Kind() == "EXISTS":
			sel.exists = int64(u.Num())
		case u.Kind() == "FLAGS":
			sel.flags, sel.hasFlags = parseList(strings.TrimSpace(strings.TrimPrefix(u.Text, strings.Fields(u.Text)[0]))), true
		case u.CodeIs("UIDVALIDITY"):
			sel.uidValidity = codeNumber(u.Code())
		case u.CodeIs("UIDNEXT"):
			sel.uidNext = codeNumber(u.Code())
		case u.CodeIs("PERMANENTFLAGS"):
			_, list, _ := strings.Cut(u.Code(), " ")
			sel.permanentFlags, sel.hasPermanent = parseList(list), true
		}
	}
	return sel
}

// permanent reports whether flag can be stored permanently: listed in
// PERMANENTFLAGS, or PERMANENTFLAGS absent (RFC 9051 §6.3.2: then all
// flags can be changed permanently).
func (sel *selection) permanent(flag string) bool {
	if !sel.hasPermanent {
		return true
	}
	return hasFlag(sel.permanentFlags, flag) || !strings.HasPrefix(flag, `\`) && hasFlag(sel.permanentFlags, `\*`)
}

func codeNumber(code string) uint32 {
	_, v, _ := strings.Cut(code, " ")
	n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	return uint32(n)
}

// parseList splits "(\Seen $Work)" into its items.
func parseList(s string) []string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "("), ")")
	return strings.Fields(s)
}

func hasFlag(flags []string, flag string) bool {
	return slices.ContainsFunc(flags, func(f string) bool { return strings.EqualFold(f, flag) })
}

// fetched is one FETCH response, parsed.
type fetched struct {
	seq      uint32
	uid      uint32 // 0 if absent
	flags    []string
	hasFlags bool
	size     int64 // -1 if absent
	body     []byte
	hasBody  bool // BODY[] (or RFC822) present
}

// parseFetch parses "* n FETCH (…)". Item values are atoms, numbers,
// quoted strings, parenthesized lists or literals.
func parseFetch(r *response) (*fetched, error) {
	f := &fetched{seq: r.Num(), size: -1}
	_, items, ok := strings.Cut(r.Text, "(")
	if !ok || !strings.HasSuffix(items, ")") {
		return nil, engine.Unmet("malformed FETCH response %q", r)
	}
	items = items[:len(items)-1]
	lit := 0
	for i := 0; i < len(items); {
		for i < len(items) && items[i] == ' ' {
			i++
		}
		if i >= len(items) {
			break
		}
		// The item name runs to a space outside brackets.
		start, depth := i, 0
		for i < len(items) && (items[i] != ' ' || depth > 0) {
			switch items[i] {
			case '[':
				depth++
			case ']':
				depth--
			}
			i++
		}
		name := strings.ToUpper(items[start:i])
		for i < len(items) && items[i] == ' ' {
			i++
		}
		if i >= len(items) {
			return nil, fmt.Errorf("FETCH item %s without a value in %q", name, r)
		}
		var value string
		var data []byte
		switch items[i] {
		case '(':
			start, depth, quoted := i, 0, false
			for ; i < len(items); i++ {
				c := items[i]
				switch {
				case quoted && c == '\\':
					i++
				case c == '"':
					quoted = !quoted
				case !quoted && c == '(':
					depth++
				case !quoted && c == ')':
					depth--
				}
				if depth == 0 && !quoted {
					i++
					break
				}
			}
			value = items[start:i]
		case '{', '~':
			end := strings.IndexByte(items[i:], '}')
			if end < 0 || lit >= len(r.Lits) {
				return nil, fmt.Errorf("bad literal in FETCH response %q", r)
			}
			i += end + 1
			data = r.Lits[lit]
			lit++
		case '"':
			start := i
			for i++; i < len(items) && items[i] != '"'; i++ {
				if items[i] == '\\' {
					i++
				}
			}
			i++
			value = items[start:min(i, len(items))]
		default:
			start := i
			for i < len(items) && items[i] != ' ' {
				i++
			}
			value = items[start:i]
		}
		switch {
		case name == "UID":
			n, _ := strconv.ParseUint(value, 10, 32)
			f.uid = uint32(n)
		case name == "FLAGS":
			f.flags, f.hasFlags = parseList(value), true
		case name == "RFC822.SIZE":
			f.size, _ = strconv.ParseInt(value, 10, 64)
		case name == "BODY[]" || name == "RFC822" || name == "BINARY[]":
			f.body, f.hasBody = data, true
			if data == nil && value != "NIL" {
				f.body = []byte(strings.Trim(value, `"`))
			}
		}
	}
	return f, nil
}

// fetches parses every FETCH response of a result.
func fetches(r *result) ([]*fetched, error) {
	var out []*fetched
	for _, u := range r.Of("FETCH") {
		f, err := parseFetch(u)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// fetchOne runs a FETCH (or UID FETCH) that must answer for one message.
func (s *session) fetchOne(line string) (*fetched, *result, error) {
	r, err := s.cmd(line)
	if err != nil {
		return nil, nil, err
	}
	if !r.OK() {
		return nil, r, engine.Unmet("%s answered %s", line, r.Done)
	}
	fs, err := fetches(r)
	if err != nil {
		return nil, r, err
	}
	if len(fs) == 0 {
		return nil, r, nil
	}
	return fs[len(fs)-1], r, nil
}

// searchNums parses the numbers of "* SEARCH …".
func searchNums(r *result) []uint32 {
	var out []uint32
	for _, u := range r.Of("SEARCH") {
		for _, f := range strings.Fields(u.Text)[1:] {
			if n, err := strconv.ParseUint(f, 10, 32); err == nil {
				out = append(out, uint32(n))
			}
		}
	}
	return out
}

// uids returns the UIDs of the selected mailbox, in sequence order.
func (s *session) uids() ([]uint32, error) {
	r, err := s.cmd("UID SEARCH ALL")
	if err != nil {
		return nil, err
	}
	if !r.OK() {
		return nil, engine.Unmet("UID SEARCH ALL answered %s", r.Done)
	}
	return searchNums(r), nil
}

// isLoopback reports whether the target is on this machine, where nothing
// on the network can see a password sent in clear text.
func isLoopback(ctx context.Context, t *engine.T) bool {
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip", t.Target.Host())
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false
		}
	}
	return true
}
