package imapbackend

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/mailcheck/mailcheck/reference/mailstore"
)

// modelClient is a raw IMAP session that keeps the model of the selected
// mailbox its client is entitled to (RFC 9051 §2.3.1.2, §5.2, §7.5.1) and
// checks every untagged response against it, as imaptest does: no sequence
// number 0 or beyond the client's count, a sequence number's UID never
// changing until an EXPUNGE, no EXPUNGE during FETCH, STORE or SEARCH, no
// keyword in FETCH before FLAGS announced it, no message gaining or losing
// \Recent in a session (RFC 3501 §2.3.2: it is the session's, fixed when
// the session is told of the message). Violations are collected,
// with the line, in the order seen.
type modelClient struct {
	name string
	rc   *rawConn
	tags int

	uids      []uint32          // by sequence number - 1; 0 = UID not yet seen
	flags     map[uint32]string // UID → flags last reported, sorted, space-separated, without \Recent
	recent    map[uint32]bool   // UID → whether its flags were reported with \Recent
	announced map[string]bool   // keywords in the last FLAGS, lower case

	mu         *sync.Mutex // shared by a test's clients, guarding violations
	violations *[]string
}

func newModelClient(ts *testServer, name, user string, mu *sync.Mutex, violations *[]string) *modelClient {
	return &modelClient{name: name, rc: ts.raw(user), flags: map[uint32]string{}, recent: map[uint32]bool{}, mu: mu, violations: violations}
}

func (c *modelClient) violate(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	*c.violations = append(*c.violations, c.name+": "+fmt.Sprintf(format, args...))
}

// do runs a command and checks every response to it; it returns the
// response lines, the tagged one last.
func (c *modelClient) do(command string) []string {
	c.rc.t.Helper()
	c.tags++
	tag := "m" + strconv.Itoa(c.tags)
	name := strings.ToUpper(strings.Fields(command)[0])
	noExpunge := name == "FETCH" || name == "STORE" || name == "SEARCH"
	c.rc.conn.Write([]byte(tag + " " + command + "\r\n"))
	var lines []string
	for {
		l := strings.TrimRight(c.rc.line(), "\r\n")
		lines = append(lines, l)
		if strings.HasPrefix(l, tag+" ") {
			return lines
		}
		if strings.HasPrefix(l, "+ ") {
			continue
		}
		c.check(l, noExpunge)
	}
}

var (
	numberedRe = regexp.MustCompile(`^\* (\d+) (EXISTS|EXPUNGE|FETCH)\b(.*)$`)
	uidRe      = regexp.MustCompile(`\bUID (\d+)`)
	flagsRe    = regexp.MustCompile(`\bFLAGS \(([^)]*)\)`)
	listRe     = regexp.MustCompile(`^\* FLAGS \(([^)]*)\)`)
)

// check applies one untagged response to the model.
func (c *modelClient) check(l string, noExpunge bool) {
	if m := listRe.FindStringSubmatch(l); m != nil {
		c.announced = map[string]bool{}
		for _, f := range strings.Fields(m[1]) {
			c.announced[strings.ToLower(f)] = true
		}
		return
	}
	m := numberedRe.FindStringSubmatch(l)
	if m == nil {
		return
	}
	n, _ := strconv.Atoi(m[1])
	switch m[2] {
	case "EXISTS":
		if n < len(c.uids) {
			c.violate("EXISTS went down from %d: %s", len(c.uids), l)
			c.uids = c.uids[:n]
		}
		for len(c.uids) < n {
			c.uids = append(c.uids, 0)
		}
	case "EXPUNGE":
		if noExpunge {
			c.violate("EXPUNGE during FETCH, STORE or SEARCH: %s", l)
		}
		if n < 1 || n > len(c.uids) {
			c.violate("EXPUNGE of a sequence number out of 1..%d: %s", len(c.uids), l)
			return
		}
		delete(c.flags, c.uids[n-1])
		delete(c.recent, c.uids[n-1])
		c.uids = slices.Delete(c.uids, n-1, n)
	case "FETCH":
		if n < 1 || n > len(c.uids) {
			c.violate("FETCH of a sequence number out of 1..%d: %s", len(c.uids), l)
			return
		}
		c.fetched(n, l)
	}
}

func (c *modelClient) fetched(seq int, l string) {
	uid := c.uids[seq-1]
	if m := uidRe.FindStringSubmatch(l); m != nil {
		got, _ := strconv.ParseUint(m[1], 10, 32)
		if uid != 0 && uint32(got) != uid {
			c.violate("UID of sequence number %d changed from %d: %s", seq, uid, l)
		}
		uid = uint32(got)
		c.uids[seq-1] = uid
	}
	m := flagsRe.FindStringSubmatch(l)
	if m == nil {
		return
	}
	flags := strings.Fields(m[1])
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) && !c.announced[strings.ToLower(f)] {
			c.violate("keyword %s used before FLAGS announced it: %s", f, l)
		}
	}
	if uid == 0 {
		c.violate("FETCH FLAGS without a UID known for sequence number %d: %s", seq, l)
		return
	}
	c.recentReported(uid, slices.Contains(flags, `\Recent`), l)
	flags = slices.DeleteFunc(flags, func(f string) bool { return f == `\Recent` })
	slices.Sort(flags)
	c.flags[uid] = strings.Join(flags, " ")
}

// recentReported checks that a message keeps or lacks \Recent in the
// session as it was first reported.
func (c *modelClient) recentReported(uid uint32, recent bool, l string) {
	if was, ok := c.recent[uid]; ok && was != recent {
		c.violate("\\Recent of UID %d changed from %v: %s", uid, was, l)
	}
	c.recent[uid] = recent
}

// agreesWith reports how the model differs from the mailbox's messages:
// the same UIDs in the same order, and the flags last reported for each
// message being its flags now.
func (c *modelClient) agreesWith(msgs []mailstore.Message) []string {
	var diffs []string
	if len(c.uids) != len(msgs) {
		diffs = append(diffs, fmt.Sprintf("%s: %d messages, the mailbox has %d", c.name, len(c.uids), len(msgs)))
		return diffs
	}
	for i, m := range msgs {
		if c.uids[i] != 0 && c.uids[i] != m.UID {
			diffs = append(diffs, fmt.Sprintf("%s: sequence number %d is UID %d, the mailbox's is %d", c.name, i+1, c.uids[i], m.UID))
		}
		flags := slices.Clone(m.Flags)
		slices.Sort(flags)
		if known, ok := c.flags[m.UID]; ok && known != strings.Join(flags, " ") {
			diffs = append(diffs, fmt.Sprintf("%s: UID %d has flags (%s), the session was told (%s)", c.name, m.UID, strings.Join(flags, " "), known))
		}
	}
	return diffs
}
