package faultpop3

import "strings"

// command is one command line of the client and what the proxy makes of
// it. The zero command (verb "") stands for what the server says unasked:
// its greeting, or a line before it hangs up.
type command struct {
	verb string   // the keyword, upper-cased (keywords are case-insensitive, RFC 1939 §3)
	args []string // the arguments, split at spaces
	arg  string   // everything after the keyword and its space (PASS takes it whole, RFC 1939 §7)
	// greeting marks the server's greeting.
	greeting bool

	// send is the line sent to the server for the command, CRLF
	// included: the client's own unless a fault rewrote it; "" when the
	// proxy answers in the server's place (local).
	send  string
	local []string
	// before and after are commands the proxy adds around it; their
	// responses are not passed on.
	before, after []string
	// startTLS makes the proxy, once it has answered, do the TLS
	// handshake with the client itself; the server's side stays plain.
	startTLS bool
}

// parseCommand splits a command line (RFC 1939 §3: a keyword, then
// arguments separated by single spaces, the line ended by CRLF).
func parseCommand(line string) *command {
	text := strings.TrimRight(line, "\r\n")
	verb, arg, _ := strings.Cut(text, " ")
	c := &command{verb: strings.ToUpper(verb), arg: arg, send: line}
	if arg != "" {
		c.args = strings.Split(arg, " ")
	}
	return c
}

// answer makes the proxy give lines in the server's place.
func (c *command) answer(lines ...string) {
	c.send, c.local = "", lines
}

// rewrite sends the server verb and args in place of the client's line.
func (c *command) rewrite(verb string, args ...string) {
	c.send = strings.Join(append([]string{verb}, args...), " ") + "\r\n"
}

// multiLine reports whether a positive response to the command line sent
// has a multi-line body (RFC 1939 §5, §7: LIST and UIDL without an
// argument, RETR, TOP; RFC 2449 §5: CAPA).
func multiLine(sent string) bool {
	c := parseCommand(sent)
	switch c.verb {
	case "CAPA", "RETR", "TOP":
		return true
	case "LIST", "UIDL":
		return len(c.args) == 0
	}
	return false
}

// response is the server's answer to one command.
type response struct {
	status string   // the status line, CRLF included
	body   []string // a multi-line body's lines as sent (byte-stuffed, CRLF included), without the "." line
	multi  bool
	// unterminated leaves out the "." line that ends a multi-line body.
	unterminated bool
	// closeAfter makes the proxy hang up once the response is sent.
	closeAfter bool
}

// ok reports whether the status is positive.
func (r *response) ok() bool { return strings.HasPrefix(r.status, "+OK") }

// text is the status line's text, after the indicator and its space.
func (r *response) text() string {
	_, text, _ := strings.Cut(strings.TrimRight(r.status, "\r\n"), " ")
	return text
}

// lines is what the client gets.
func (r *response) lines() []string {
	out := append([]string{r.status}, r.body...)
	if r.multi && !r.unterminated {
		out = append(out, ".\r\n")
	}
	return out
}
