package faultimap

import (
	"regexp"
	"strconv"

	"github.com/mailcheck/mailcheck/internal/faultproxy"
)

// ExpungeDuringFetch: expunges are announced in the responses to FETCH,
// STORE and SEARCH (imap.expunge.not-during-fetch), which RFC 9051 §7.5.1
// forbids: "An EXPUNGE response MUST NOT be sent ... while responding to
// a FETCH, STORE, or SEARCH command" (the UID forms may carry them). The
// server holds them back there, as it must; the proxy has them told all
// the same: ahead of each FETCH, STORE or SEARCH it sends the server a
// NOOP of its own, whose untagged responses (EXPUNGE among them) reach the
// client as part of the command's answer, and whose tagged response it
// drops. The server renumbers as it tells them, so nothing the client
// hears is told twice or numbered wrong: the one fault is when.
var ExpungeDuringFetch = &faultproxy.Fault{PerConn: func() *faultproxy.Fault {
	c := &noopFirst{}
	return &faultproxy.Fault{
		Rewrite: c.rewrite,
		Server: func(_ int, line string) []string {
			if injectedDone.MatchString(line) {
				return nil
			}
			return []string{line}
		},
	}
}}

// injectedTag is the tag of the NOOPs ExpungeDuringFetch sends.
const injectedTag = "faultimap-noop"

var (
	injectedDone = regexp.MustCompile(`^` + injectedTag + ` (?:OK|NO|BAD)\b`)
	// heldBack is a command whose answer may carry no EXPUNGE.
	heldBack = regexp.MustCompile(`^\S+ (?i:FETCH|STORE|SEARCH) `)
	// literalAtEnd is a literal's announcement ending a line: its data
	// follows (RFC 9051 §4.3; "+" is LITERAL+, RFC 7888).
	literalAtEnd = regexp.MustCompile(`\{(\d+)\+?\}\r?\n$`)
)

// noopFirst follows the client's commands across their literals, so that
// only a line that starts a command is taken for one.
type noopFirst struct {
	// inCommand: the last line ended with a literal, so what follows is
	// the same command's.
	inCommand bool
	// owed is how many octets of a literal's data are still to come.
	owed int
}

func (c *noopFirst) rewrite(line string) string {
	start := !c.inCommand
	rest := line
	if c.owed > 0 {
		if c.owed >= len(line) {
			c.owed -= len(line)
			return line
		}
		rest, c.owed = line[c.owed:], 0
	}
	m := literalAtEnd.FindStringSubmatch(rest)
	c.inCommand = m != nil
	if m != nil {
		c.owed, _ = strconv.Atoi(m[1])
	}
	if start && heldBack.MatchString(line) {
		return injectedTag + " NOOP\r\n" + line
	}
	return line
}
