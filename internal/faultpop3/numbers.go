package faultpop3

import (
	"slices"
	"strconv"
	"strings"
)

// takesMessage reports whether a command's first argument is a message
// number (RFC 1939 §5, §7).
func takesMessage(verb string) bool {
	switch verb {
	case "LIST", "RETR", "DELE", "TOP", "UIDL":
		return true
	}
	return false
}

// digits reports whether s is a non-empty run of ASCII digits.
func digits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// firstNumber is the number s starts with, 0 if none.
func firstNumber(s string) int {
	end := len(s) - len(strings.TrimLeft(s, "0123456789"))
	n, _ := strconv.Atoi(s[:end])
	return n
}

// addToSecond adds d to the second number of "n m": the octets of STAT
// and of a scan listing (RFC 1939 §5).
func addToSecond(text string, d int64) string {
	first, second, _ := strings.Cut(text, " ")
	m, _ := strconv.ParseInt(second, 10, 64)
	return first + " " + strconv.FormatInt(m+d, 10)
}

// uidls is a fault that changes the unique-ids of UIDL's listings
// (RFC 1939 §7: "msg unique-id").
func uidls(change func(s *session, uid string) string) *Fault {
	return &Fault{response: func(s *session, c *command, r *response) {
		if c.verb != "UIDL" || !r.ok() {
			return
		}
		if len(c.args) == 1 {
			n, uid, _ := strings.Cut(r.text(), " ")
			r.status = "+OK " + n + " " + change(s, uid) + "\r\n"
			return
		}
		for i, l := range r.body {
			n, uid, _ := strings.Cut(strings.TrimRight(l, "\r\n"), " ")
			r.body[i] = n + " " + change(s, uid) + "\r\n"
		}
	}}
}

// mark counts message n as marked deleted.
func (s *session) mark(n int) {
	if s.marked == nil {
		s.marked = map[int]bool{}
	}
	s.marked[n] = true
}

// markedNumbers are the marked messages, in order.
func (s *session) markedNumbers() []int {
	var out []int
	for n, on := range s.marked {
		if on {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// number is the number a server that renumbers after DELE gives message
// n: its place among the messages not marked.
func (s *session) number(n int) int {
	k := 0
	for j := 1; j <= n; j++ {
		if !s.marked[j] {
			k++
		}
	}
	return k
}

// renumbered maps a number such a server gave back to the message's
// real one.
func (s *session) renumbered(n int) int {
	seen := 0
	for j := 1; j <= s.messages; j++ {
		if !s.marked[j] {
			seen++
			if seen == n {
				return j
			}
		}
	}
	return n
}

// renumberLine renumbers the message number a listing line starts with.
func (s *session) renumberLine(line string) string {
	n, rest, _ := strings.Cut(line, " ")
	if !digits(n) {
		return line
	}
	real, _ := strconv.Atoi(n)
	return strconv.Itoa(s.number(real)) + " " + rest
}
