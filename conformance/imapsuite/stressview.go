package imapsuite

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// contradictionClass tells which concurrency check a contradiction is the
// subject of.
type contradictionClass int

const (
	// seqClass: sequence numbers, UIDs, EXISTS and EXPUNGE
	// (imap.concurrency.sequence).
	seqClass contradictionClass = iota
	// flagClass: flags and keywords (imap.concurrency.flags).
	flagClass
	classes // how many there are
)

// contradiction is a response that contradicts what its session was told
// before: the session, the command in progress, the response and what the
// model expected instead.
type contradiction struct {
	class    contradictionClass
	session  int
	command  string
	response string
	expected string
}

func (v *contradiction) String() string {
	return fmt.Sprintf("session %d, command %q: got %q; expected %s", v.session, v.command, v.response, v.expected)
}

// member is one message as a session knows it.
type member struct {
	uid        uint32 // 0 until a FETCH or the session's own knowledge gives it
	flags      []string
	flagsKnown bool
}

// inProgress is the command a session has sent and not seen completed.
type inProgress struct {
	tag, line string
	// noExpunge is set for FETCH, STORE and SEARCH by sequence number,
	// during which RFC 9051 §7.5.1 forbids EXPUNGE responses.
	noExpunge bool
	// storeUID and storeFlag, for a STORE of one of the session's own
	// flags, name what it changes; add says whether it sets or clears.
	storeUID  uint32
	storeFlag string
	add       bool
	// lastFlags is the last FLAGS of storeUID the command's responses
	// carried (nil if none): judged once the STORE has completed.
	lastFlags []string
	// search is the SEARCH response, judged once the command has
	// completed (an EXISTS may come after it).
	search *response
}

// newInProgress describes the command line (tag tag) that v's session
// sends: whether it forbids EXPUNGE, and which of its own flags it stores.
func newInProgress(tag, line string, v *stressView) *inProgress {
	c := &inProgress{tag: tag, line: line}
	c.noExpunge = !strings.HasPrefix(line, "UID ") && (strings.HasPrefix(line, "FETCH") || strings.HasPrefix(line, "STORE") || strings.HasPrefix(line, "SEARCH"))
	if f := strings.Fields(line); len(f) >= 4 && (f[0] == "STORE" || f[1] == "STORE") {
		c.storeUID, c.storeFlag, c.add = v.storeTarget(f)
	}
	return c
}

// storeTarget is the UID, flag and direction of "STORE n ±FLAGS (f)" or
// "UID STORE u ±FLAGS (f)"; no flag for one the session does not own.
func (v *stressView) storeTarget(f []string) (uint32, string, bool) {
	i := 1
	if f[0] == "UID" {
		i = 2
	}
	n, _ := strconv.Atoi(f[i])
	flag := strings.Trim(f[i+2], "()")
	if !slices.Contains(v.own, flag) {
		return 0, "", false
	}
	uid := uint32(n)
	if f[0] != "UID" {
		uid = v.msgs[n-1].uid
	}
	return uid, flag, strings.HasPrefix(f[i+1], "+")
}

// stressView is what one session of a concurrency check must know of
// the shared mailbox: the model imaptest keeps for each client. Every
// untagged response is applied to it and judged against it.
type stressView struct {
	s  *session
	id int // 1-based session number, as messages name it
	// msgs is the session's sequence: msgs[i] is message i+1.
	msgs []member
	// announced are the flags FLAGS responses made known (lower case).
	announced map[string]bool
	// own are the flags only this session stores, and mine what it last
	// stored of them on each UID (true set, false cleared).
	own  []string
	mine map[uint32]map[string]bool
	cmd  *inProgress
	// quietUntil is the round before which the session sends nothing.
	quietUntil int
	// lastDone is the completion of the last command.
	lastDone *response
	// newKeywords is set when the mailbox takes keywords not yet in it
	// (PERMANENTFLAGS with \*, or none: RFC 9051 §6.3.2).
	newKeywords  bool
	hasPermanent bool
	log          *exchangeLog
	// found is the first contradiction found of each class.
	found [classes]*contradiction
}

func newStressView(s *session, id int, own []string) *stressView {
	return &stressView{s: s, id: id, own: own, announced: map[string]bool{}, mine: map[uint32]map[string]bool{}, log: &exchangeLog{}}
}

// note records the first contradiction.
func (v *stressView) note(class contradictionClass, resp *response, format string, args ...any) {
	if v.found[class] != nil {
		return
	}
	line := "(between commands)"
	if v.cmd != nil {
		line = v.cmd.tag + " " + v.cmd.line
	}
	v.found[class] = &contradiction{class: class, session: v.id, command: line, response: resp.String(), expected: fmt.Sprintf(format, args...)}
}

// apply judges one untagged response against the view, then applies it.
func (v *stressView) apply(r *response) {
	v.log.add("S: " + r.String())
	switch r.Kind() {
	case "EXISTS":
		v.exists(r)
	case "EXPUNGE":
		v.expunge(r)
	case "FETCH":
		v.fetch(r)
	case "FLAGS":
		_, list, _ := strings.Cut(r.Text, " ")
		for _, f := range parseList(list) {
			v.announced[strings.ToLower(f)] = true
		}
	case "SEARCH":
		if v.cmd != nil {
			v.cmd.search = r
		}
	}
	if r.CodeIs("PERMANENTFLAGS") {
		_, list, _ := strings.Cut(r.Code(), " ")
		v.hasPermanent, v.newKeywords = true, hasFlag(parseList(list), `\*`)
	}
}

// exists: RFC 9051 §7.4.1, EXISTS reports the mailbox's size; only
// EXPUNGE (§7.5.1) makes it smaller for a session.
func (v *stressView) exists(r *response) {
	n := int(r.Num())
	if n < len(v.msgs) {
		v.note(seqClass, r, "at least %d messages: the session knows %d and was told of no EXPUNGE (RFC 9051 §7.4.1, §7.5.1)", len(v.msgs), len(v.msgs))
		return
	}
	for len(v.msgs) < n {
		v.msgs = append(v.msgs, member{})
	}
}

// expunge: RFC 9051 §7.5.1, the number is one the session knows, and no
// EXPUNGE comes while a FETCH, STORE or SEARCH is answered.
func (v *stressView) expunge(r *response) {
	n := int(r.Num())
	switch {
	case v.cmd != nil && v.cmd.noExpunge:
		v.note(seqClass, r, "no EXPUNGE while a FETCH, STORE or SEARCH by sequence number is answered (RFC 9051 §7.5.1)")
	case n < 1 || n > len(v.msgs):
		v.note(seqClass, r, "a message number in 1..%d, the messages this session knows (RFC 9051 §7.5.1, §2.3.1.2)", len(v.msgs))
	default:
		delete(v.mine, v.msgs[n-1].uid)
		v.msgs = slices.Delete(v.msgs, n-1, n)
	}
}

// fetch judges the sequence number and UID of a FETCH response (RFC 9051
// §2.3.1.1, §2.3.1.2, §7.5.2), then its flags.
func (v *stressView) fetch(r *response) {
	f, err := parseFetch(r)
	if err != nil {
		v.note(seqClass, r, "a FETCH response the client can parse: %v", err)
		return
	}
	n := int(f.seq)
	if n < 1 || n > len(v.msgs) {
		v.note(seqClass, r, "a message number in 1..%d, the messages this session knows (RFC 9051 §2.3.1.2: numbers run from 1 to the mailbox's size)", len(v.msgs))
		return
	}
	m := &v.msgs[n-1]
	if f.uid != 0 {
		if m.uid != 0 && m.uid != f.uid {
			v.note(seqClass, r, "UID %d: message %d had it and no EXPUNGE renumbered it (RFC 9051 §2.3.1.1, §2.3.1.2)", m.uid, n)
			return
		}
		if !v.ascendsAt(n-1, f.uid) {
			v.note(seqClass, r, "a UID between those of the neighbouring messages %s (RFC 9051 §2.3.1.1: UIDs ascend with sequence numbers)", v.neighbours(n-1))
			return
		}
		m.uid = f.uid
	}
	if f.hasFlags {
		v.judgeFlags(r, m.uid, f.flags)
		m.flags, m.flagsKnown = f.flags, true
	}
}

// ascendsAt reports whether uid fits between the known UIDs around index i.
func (v *stressView) ascendsAt(i int, uid uint32) bool {
	for j := i - 1; j >= 0; j-- {
		if u := v.msgs[j].uid; u != 0 {
			if u >= uid {
				return false
			}
			break
		}
	}
	for j := i + 1; j < len(v.msgs); j++ {
		if u := v.msgs[j].uid; u != 0 {
			return u > uid
		}
	}
	return true
}

func (v *stressView) neighbours(i int) string {
	var parts []string
	for _, j := range []int{i - 1, i + 1} {
		if j >= 0 && j < len(v.msgs) {
			parts = append(parts, fmt.Sprintf("%d: UID %d", j+1, v.msgs[j].uid))
		}
	}
	return "(" + strings.Join(parts, ", ") + "; 0 unknown)"
}

// judgeFlags: a keyword comes in FETCH only after a FLAGS response named
// it (RFC 9051 §7.3.5, RFC 3501 §7.2.6: the client records FLAGS, and
// knows of no other keywords), and the flags only this session stores
// are as its last STORE left them (RFC 9051 §6.4.6, §7.5.2: FETCH FLAGS
// are the message's flags now).
func (v *stressView) judgeFlags(r *response, uid uint32, flags []string) {
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) && !v.announced[strings.ToLower(f)] {
			v.note(flagClass, r, "keyword %s only after an untagged FLAGS response announced it (RFC 9051 §7.3.5; RFC 3501 §7.2.6)", f)
			return
		}
	}
	if uid == 0 {
		return
	}
	if c := v.cmd; c != nil && c.storeUID == uid {
		c.lastFlags = flags
		return // judged when the STORE completes
	}
	v.judgeOwn(r, uid, flags)
}

// judgeOwn compares flags with what this session last stored on uid.
func (v *stressView) judgeOwn(r *response, uid uint32, flags []string) {
	for flag, set := range v.mine[uid] {
		if hasFlag(flags, flag) != set {
			state := "set"
			if !set {
				state = "cleared"
			}
			v.note(flagClass, r, "%s %s on UID %d: this session %s it last and no other session stores it (RFC 9051 §6.4.6, §7.5.2)", flag, state, uid, state)
			return
		}
	}
}

// completed applies the tagged response of the command in progress.
func (v *stressView) completed(done *response) {
	v.log.add("S: " + done.String())
	c := v.cmd
	v.cmd = nil
	if c == nil {
		return
	}
	if c.search != nil && c.noExpunge {
		v.judgeSearch(c, c.search)
	}
	if c.storeFlag == "" {
		return
	}
	if done.Kind() != "OK" {
		delete(v.mine[c.storeUID], c.storeFlag) // not known what holds
		return
	}
	if v.mine[c.storeUID] == nil {
		v.mine[c.storeUID] = map[string]bool{}
	}
	v.mine[c.storeUID][c.storeFlag] = c.add
	v.applyOwn(c)
	if c.lastFlags != nil {
		v.judgeOwn(done, c.storeUID, c.lastFlags)
	}
}

// uids is the session's UIDs in sequence order.
func (v *stressView) uids() []uint32 {
	out := make([]uint32, len(v.msgs))
	for i, m := range v.msgs {
		out[i] = m.uid
	}
	return out
}

// flagsOf renders a message's flags in a canonical order, \Recent left
// out (it is per session by definition, RFC 3501 §2.3.2).
func flagsOf(m member) string {
	var fs []string
	for _, f := range m.flags {
		if !strings.EqualFold(f, `\Recent`) {
			fs = append(fs, strings.ToLower(f))
		}
	}
	slices.Sort(fs)
	return "(" + strings.Join(fs, " ") + ")"
}

// exchangeLog keeps the last lines a session sent and received: the
// context a violation is quoted with (the check's transcript may be
// truncated by then).
type exchangeLog struct {
	lines []string
}

// exchangeLogLines is how many lines of each session a violation quotes.
const exchangeLogLines = 8

func (l *exchangeLog) add(line string) {
	if len(line) > 200 {
		line = line[:200] + "…"
	}
	if len(l.lines) == exchangeLogLines {
		l.lines = slices.Delete(l.lines, 0, 1)
	}
	l.lines = append(l.lines, line)
}

// judgeSearch: the message numbers of a SEARCH are ones the session
// knows once the command has completed (RFC 9051 §2.3.1.2; the SEARCH
// response: RFC 3501 §7.2.5).
func (v *stressView) judgeSearch(c *inProgress, r *response) {
	v.cmd = c // named in the violation
	defer func() { v.cmd = nil }()
	for _, n := range searchNums(&result{Untagged: []*response{r}}) {
		if n < 1 || int(n) > len(v.msgs) {
			v.note(seqClass, r, "message numbers in 1..%d, the messages this session knows (RFC 9051 §2.3.1.2)", len(v.msgs))
			return
		}
	}
}

// applyOwn changes the session's flags of the stored message as its
// STORE did, as a client does whether or not a FETCH came back
// (returning it is imap.store.fetch-response's subject).
func (v *stressView) applyOwn(c *inProgress) {
	for i := range v.msgs {
		m := &v.msgs[i]
		if m.uid != c.storeUID || !m.flagsKnown {
			continue
		}
		m.flags = slices.DeleteFunc(slices.Clone(m.flags), func(f string) bool { return strings.EqualFold(f, c.storeFlag) })
		if c.add {
			m.flags = append(m.flags, c.storeFlag)
		}
	}
}
