// Package faultimap breaks the reference IMAP server in one way at a time,
// so that each check of the IMAP suite (conformance/imapsuite) can be shown
// to fail against a server with the fault it exists to catch. The server
// itself stays correct: a fault is either a wrapper around the sessions the
// backend hands go-imap (installed through imapbackend.Options.WrapSession)
// or a proxy fault (internal/faultproxy) in front of the server, for what
// only shows on the wire. It is test-only: nothing the mailcheck binary
// links imports it.
//
// Each fault is named as it was when it lived in the server, and its
// documentation names the check it is for.
package faultimap

import (
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/mailcheck/mailcheck/reference/imapbackend"
)

// Wrapper is a fault that lives in the sessions: it wraps each session of
// a server.
type Wrapper struct {
	// forServer returns the wrapper of one server's sessions; faults with
	// state shared between sessions get it afresh for each server.
	forServer func() func(s imapserver.Session, conn *imapserver.Conn) imapserver.Session
}

// Install gives the server o configures the fault: it sets o.WrapSession.
func (w *Wrapper) Install(o *imapbackend.Options) {
	o.WrapSession = w.forServer()
}

// eachSession is a Wrapper whose sessions share nothing.
func eachSession(wrap func(s passOn) imapserver.Session) *Wrapper {
	return &Wrapper{forServer: func() func(imapserver.Session, *imapserver.Conn) imapserver.Session {
		return func(s imapserver.Session, _ *imapserver.Conn) imapserver.Session { return wrap(passOn{s}) }
	}}
}
