// Package faultsmtp re-creates, outside the reference SMTP server, each
// fault the conformance proofs need: a server that is wrong in exactly
// one way, so a check can be shown to fail against it. The server itself
// has only the correct code path; a Fault sits in front of it (a proxy
// that follows the SMTP conversation, through STARTTLS, and alters what
// one side says) or around its Backend (what it accepts, stores or
// authenticates). It is test-only: nothing the mailcheck binary links
// imports it.
package faultsmtp

import (
	"github.com/mailcheck/mailcheck/reference"
	"github.com/mailcheck/mailcheck/reference/smtpserver"
)

// Fault is one way of breaking the reference SMTP server. A Fault holds no
// state of its own (each connection's lives in the proxy), so one value
// serves any number of servers at once. The nil fields change nothing.
type Fault struct {
	// command sees each command line before the server does. It may
	// rewrite cmd.line, or handle the command itself (answering the
	// client, talking to the server unseen) and report true.
	command func(c *conn, cmd *command) (handled bool)
	// reply alters a reply before the client gets it.
	reply func(c *conn, cmd *command, r *reply)
	// wire alters the octets of a reply, after reply.
	wire func(cmd *command, r *reply, octets []byte) []byte
	// data reads one message from the client up to where this server
	// ends DATA, and returns what the correct server is to get: the
	// message ending in CRLF.CRLF.
	data func(c *conn) ([]byte, error)
	// content alters the lines of a message (dot-stuffed, each with its
	// line end, the final "." line left out) before the server gets them.
	content func(lines [][]byte) [][]byte
	// dropInput says to throw away the client's input buffered behind
	// the command just answered.
	dropInput func(c *conn) bool
	// injectAfterTLS runs the plaintext pipelined behind STARTTLS as
	// commands once TLS is up.
	injectAfterTLS bool
	// backend wraps the server's Backend.
	backend func(smtpserver.Backend) smtpserver.Backend
}

// Configure sets up c, a reference server's configuration, so that the
// server shows the fault: its SMTP listener becomes the fault's proxy,
// its SMTP backend is wrapped, or both. It is a function for
// reference.StartLoopback's configure argument; c.TLS, when set, must be
// set before (the proxy terminates TLS with it).
func (f *Fault) Configure(c *reference.Config) {
	if f.backend != nil {
		inner := c.WrapSMTPBackend
		c.WrapSMTPBackend = func(b smtpserver.Backend) smtpserver.Backend {
			if inner != nil {
				b = inner(b)
			}
			return f.backend(b)
		}
	}
	if f.onWire() {
		c.SMTPListener = listen(f, c.TLS)
	}
}

// onWire reports whether the fault needs the proxy.
func (f *Fault) onWire() bool {
	return f.command != nil || f.reply != nil || f.wire != nil || f.data != nil ||
		f.content != nil || f.dropInput != nil || f.injectAfterTLS
}

// Join is a server with every one of faults: the first command hook that
// handles a command wins, replies pass each reply hook in turn, the first
// data reader reads the message, backends nest (the last outermost).
func Join(faults ...*Fault) *Fault {
	j := &Fault{}
	for _, f := range faults {
		j.command = joinCommands(j.command, f.command)
		j.reply = joinReplies(j.reply, f.reply)
		j.wire = joinWires(j.wire, f.wire)
		j.content = joinContents(j.content, f.content)
		j.dropInput = orDrop(j.dropInput, f.dropInput)
		j.backend = joinBackends(j.backend, f.backend)
		j.injectAfterTLS = j.injectAfterTLS || f.injectAfterTLS
		if j.data == nil {
			j.data = f.data
		}
	}
	return j
}

func joinCommands(a, b func(*conn, *command) bool) func(*conn, *command) bool {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return func(c *conn, cmd *command) bool { return a(c, cmd) || b(c, cmd) }
}

func joinReplies(a, b func(*conn, *command, *reply)) func(*conn, *command, *reply) {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return func(c *conn, cmd *command, r *reply) { a(c, cmd, r); b(c, cmd, r) }
}

func joinWires(a, b func(*command, *reply, []byte) []byte) func(*command, *reply, []byte) []byte {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return func(cmd *command, r *reply, octets []byte) []byte { return b(cmd, r, a(cmd, r, octets)) }
}

func joinContents(a, b func([][]byte) [][]byte) func([][]byte) [][]byte {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return func(lines [][]byte) [][]byte { return b(a(lines)) }
}

func orDrop(a, b func(*conn) bool) func(*conn) bool {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return func(c *conn) bool { return a(c) || b(c) }
}

func joinBackends(a, b func(smtpserver.Backend) smtpserver.Backend) func(smtpserver.Backend) smtpserver.Backend {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return func(be smtpserver.Backend) smtpserver.Backend { return b(a(be)) }
}
