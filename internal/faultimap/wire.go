package faultimap

import (
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/mailcheck/mailcheck/internal/faultproxy"
)

// The faults below show only in what the server writes, which go-imap
// encodes from what the backend hands it: a proxy in front of the server
// alters the responses. Lines are whole IMAP lines; a literal's data
// passes as the lines it holds.

var (
	fetchLine    = regexp.MustCompile(`^\* \d+ FETCH `)
	rfc822Size   = regexp.MustCompile(`RFC822\.SIZE (\d+)`)
	fetchUID     = regexp.MustCompile(`^(\* \d+ FETCH \((?:[^{]*? )?UID )(\d+)`)
	taggedLine   = regexp.MustCompile(`^([^*+ ]\S*) (?:OK|NO|BAD)\b`)
	fetchCommand = regexp.MustCompile(`^(\S+) (?i:UID )?FETCH `)
	flagsCommand = regexp.MustCompile(`^(\S+) (?i:UID )?(?:FETCH|STORE) `)
)

// SizeOffByOne: RFC822.SIZE is one more than the size of BODY[]
// (imap.fetch.size-matches).
var SizeOffByOne = &faultproxy.Fault{Server: func(_ int, line string) []string {
	if fetchLine.MatchString(line) {
		line = rfc822Size.ReplaceAllStringFunc(line, func(item string) string {
			n, _ := strconv.ParseInt(rfc822Size.FindStringSubmatch(item)[1], 10, 64)
			return "RFC822.SIZE " + strconv.FormatInt(n+1, 10)
		})
	}
	return []string{line}
}}

// UIDsNotAscending: FETCH reports the UIDs of the first two messages it
// answers for swapped (imap.uid.ascending).
var UIDsNotAscending = &faultproxy.Fault{PerConn: func() *faultproxy.Fault {
	s := &uidSwap{}
	return &faultproxy.Fault{
		Client: func(line string) (bool, string) {
			if m := fetchCommand.FindStringSubmatch(line); m != nil {
				s.mu.Lock()
				s.tag, s.swapped = m[1], false
				s.mu.Unlock()
			}
			return true, ""
		},
		Server: func(_ int, line string) []string { return s.server(line) },
	}
}}

// uidSwap holds the first response of a FETCH that carries a UID until
// the second comes, and passes both on with their UIDs swapped.
type uidSwap struct {
	mu      sync.Mutex
	tag     string   // the FETCH being answered, "" if none
	swapped bool     // this FETCH's first two UIDs are swapped
	held    []string // the first response, its literal data included
}

func (s *uidSwap) server(line string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	second := fetchUID.FindStringSubmatch(line)
	switch {
	case s.held != nil && second != nil:
		first := fetchUID.FindStringSubmatch(s.held[0])
		s.held[0] = first[1] + second[2] + s.held[0][len(first[0]):]
		out := append(s.held, second[1]+first[2]+line[len(second[0]):])
		s.held, s.swapped = nil, true
		return out
	case s.held != nil && (strings.HasPrefix(line, "* ") || taggedLine.MatchString(line)):
		out := append(s.held, line)
		s.held = nil
		return s.ended(line, out)
	case s.held != nil:
		s.held = append(s.held, line)
		return nil
	case s.tag != "" && !s.swapped && second != nil:
		s.held = []string{line}
		return nil
	}
	return s.ended(line, []string{line})
}

// ended forgets the FETCH when line is its tagged response.
func (s *uidSwap) ended(line string, out []string) []string {
	if m := taggedLine.FindStringSubmatch(line); m != nil && m[1] == s.tag {
		s.tag = ""
	}
	return out
}

// NoFlagUpdates: flag changes are not announced to the other sessions
// that have the mailbox selected (imap.consistency.flags): a FETCH
// response outside the client's own FETCH and STORE commands is dropped.
var NoFlagUpdates = &faultproxy.Fault{PerConn: func() *faultproxy.Fault {
	var mu sync.Mutex
	own := map[string]bool{} // tags of FETCH and STORE commands in progress
	return &faultproxy.Fault{
		Client: func(line string) (bool, string) {
			if m := flagsCommand.FindStringSubmatch(line); m != nil {
				mu.Lock()
				own[m[1]] = true
				mu.Unlock()
			}
			return true, ""
		},
		Server: func(_ int, line string) []string {
			mu.Lock()
			defer mu.Unlock()
			if m := taggedLine.FindStringSubmatch(line); m != nil {
				delete(own, m[1])
			}
			if fetchLine.MatchString(line) && len(own) == 0 {
				return nil
			}
			return []string{line}
		},
	}
}}

// CreatedSessionOnly: a mailbox is listed only to the session that created
// it, as if CREATE were not persisted (imap.create.persists). The proxy
// remembers, across its connections, which one created which mailbox, and
// drops the LIST and LSUB responses naming it from the others.
var CreatedSessionOnly = &faultproxy.Fault{PerConn: func() *faultproxy.Fault {
	me := &creator{pending: map[string]string{}}
	return &faultproxy.Fault{
		Client: func(line string) (bool, string) {
			me.client(line)
			return true, ""
		},
		Server: func(_ int, line string) []string {
			if me.hides(line) {
				return nil
			}
			return []string{line}
		},
	}
}}

// creators maps each mailbox created through the proxy to the connection
// that created it.
var creators = struct {
	sync.Mutex
	of map[string]*creator
}{of: map[string]*creator{}}

// creator is one connection of CreatedSessionOnly.
type creator struct {
	mu      sync.Mutex
	pending map[string]string // CREATE tag → mailbox
}

var (
	createCommand = regexp.MustCompile(`^(\S+) (?i:CREATE) (.+?)\r?\n$`)
	listResponse  = regexp.MustCompile(`^\* (?:LIST|LSUB) \([^)]*\) (?:NIL|"(?:[^"\\]|\\.)*") (.+?)\r?\n$`)
)

func (c *creator) client(line string) {
	if m := createCommand.FindStringSubmatch(line); m != nil {
		c.mu.Lock()
		c.pending[m[1]] = strings.TrimSuffix(mailboxName(m[2]), ".")
		c.mu.Unlock()
	}
}

// hides reports whether line lists a mailbox another connection created;
// on the way it notes the mailboxes this one creates.
func (c *creator) hides(line string) bool {
	if m := taggedLine.FindStringSubmatch(line); m != nil {
		c.mu.Lock()
		name, ok := c.pending[m[1]]
		delete(c.pending, m[1])
		c.mu.Unlock()
		if ok && strings.HasPrefix(line[len(m[1]):], " OK") {
			creators.Lock()
			creators.of[name] = c
			creators.Unlock()
		}
		return false
	}
	m := listResponse.FindStringSubmatch(line)
	if m == nil {
		return false
	}
	creators.Lock()
	defer creators.Unlock()
	who, ok := creators.of[mailboxName(m[1])]
	return ok && who != c
}

// mailboxName reads the mailbox name at the start of s: an atom or a
// quoted string (RFC 9051 §9 astring); literals are not read.
func mailboxName(s string) string {
	if !strings.HasPrefix(s, `"`) {
		name, _, _ := strings.Cut(s, " ")
		return name
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String()
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
