package faultsmtp

import "strings"

// kind is what a line from the client is, for the reply that answers it.
type kind int

const (
	kindCommand  kind = iota // a command
	kindGreeting             // none: the reply is the greeting
	kindSASL                 // a response in an AUTH exchange
	kindDataEnd              // the end of a message after DATA
)

// command is one line from the client.
type command struct {
	kind kind
	line string // as sent, line end included; a fault may rewrite it
	// verb is the command verb in upper case, as the server reads it;
	// rawVerb is it as sent.
	verb, rawVerb string
	arg           string // the rest, without the line end
	hasArgs       bool
	// quit and err, set by a fault that handled the command, end the
	// connection.
	quit bool
	err  error
}

// parseCommand splits a command line the way the server does (RFC 5321
// §4.1.1: verb, space, arguments; verbs in any case).
func parseCommand(line string) *command {
	text := strings.TrimSuffix(line, "\r\n")
	verb, arg, hasArgs := strings.Cut(text, " ")
	return &command{kind: kindCommand, line: line, rawVerb: verb, verb: strings.ToUpper(verb), arg: arg, hasArgs: hasArgs}
}

// setLine rewrites the command the server gets.
func (cmd *command) setLine(text string) {
	*cmd = *parseCommand(text + "\r\n")
}

// proper reports a command line the server reads as a command: ended by
// CRLF, with no bare CR, NUL or 8-bit octet (RFC 5321 §2.3.8, §2.4).
// Anything else it refuses before looking at the verb.
func (cmd *command) proper() bool {
	text, ok := strings.CutSuffix(cmd.line, "\r\n")
	if !ok || strings.ContainsAny(text, "\r\x00") {
		return false
	}
	for i := 0; i < len(text); i++ {
		if text[i] >= 0x80 {
			return false
		}
	}
	return true
}

// is reports a proper command with the verb v.
func (cmd *command) is(v string) bool {
	return cmd.kind == kindCommand && cmd.verb == v && cmd.proper()
}
