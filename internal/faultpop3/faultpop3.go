// Package faultpop3 re-creates, for the conformance proofs, a POP3 server
// with exactly one fault, around the correct reference server: a proxy on
// the server's listener that follows the POP3 conversation and alters one
// thing in it, and, for faults of the maildrop, a wrapper around the
// server's backend. The shipped server carries no fault; this package is
// test-only: nothing the mailcheck binary links imports it.
package faultpop3

import (
	"crypto/tls"
	"net"
	"sync"

	"github.com/mailcheck/mailcheck/reference"
	"github.com/mailcheck/mailcheck/reference/pop3server"
)

// Fault is one way a POP3 server can be wrong. The zero Fault changes
// nothing. A Fault holds no state: each server set up with it gets state
// of its own, so one Fault may serve several servers at once.
type Fault struct {
	// command sees each command line before it goes to the server; it may
	// rewrite it, answer it in the server's place or add commands around
	// it.
	command func(s *session, c *command)
	// response rewrites the server's response before the client gets it.
	response func(s *session, c *command, r *response)
	// wrap wraps the server's backend, for faults of the maildrop.
	wrap func(b pop3server.Backend, srv *server) pop3server.Backend
	// dropPipelined discards the client input buffered behind each
	// command, as a server that reads one command at a time and forgets
	// the rest does.
	dropPipelined bool
}

// None is the correct server behind the proxy: it shows that the proxy
// alone changes no verdict.
var None = &Fault{}

// Configure sets cfg up so that the POP3 server started from it shows f:
// the proxy in front of every session on cfg.POP3Listener (on a listener
// of its own at cfg.POP3Addr, or 127.0.0.1 on a free port, when none is
// set) and f's wrapper around the backend. Like httptest.NewServer, it
// panics when it cannot listen. Use it as, or in, the configure function
// of reference.StartLoopback or conformance.RunEmbedded.
func (f *Fault) Configure(cfg *reference.Config) {
	srv := &server{fault: f, tls: cfg.TLS}
	l := cfg.POP3Listener
	if l == nil {
		addr := cfg.POP3Addr
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		var err error
		if l, err = net.Listen("tcp", addr); err != nil {
			panic("faultpop3: cannot listen: " + err.Error())
		}
	}
	cfg.POP3Listener = &listener{Listener: l, srv: srv}
	if f.wrap != nil {
		cfg.WrapPOP3Backend = func(b pop3server.Backend) pop3server.Backend { return f.wrap(b, srv) }
	}
}

// server is what the sessions of one reference server set up with a
// Fault share.
type server struct {
	fault *Fault
	// tls is the reference server's certificate, for a proxy that answers
	// STLS itself.
	tls *tls.Config
	// sessions numbers the proxy's sessions.
	sessions sync.Mutex
	next     int
	// logins is what the backend wrapper tells the proxy.
	logins logins
}

// sessionID numbers a new session.
func (srv *server) sessionID() int {
	srv.sessions.Lock()
	defer srv.sessions.Unlock()
	srv.next++
	return srv.next
}
