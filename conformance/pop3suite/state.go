package pop3suite

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

var stateChecks = []*engine.Check{
	{
		ID: "pop3.state.stat-before-login", Title: "STAT before login gets -ERR", Spec: "RFC 1939 §4, §5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			t.Require(err)
			s.expect("STAT", false, "STAT is valid only in TRANSACTION")
			return nil
		},
	},
	{
		ID: "pop3.state.user-after-login", Title: "USER after login gets -ERR", Spec: "RFC 1939 §7", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			login(ctx, t).expect("USER "+t.Target.User, false, "USER is valid only in AUTHORIZATION")
			return nil
		},
	},
	{
		ID: "pop3.auth.wrong-password", Title: "A wrong PASS gets -ERR", Spec: "RFC 1939 §7", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s := wrongPassword(ctx, t)
			if s.failed.ok {
				t.FailNow("a wrong password: %q got %q, want -ERR", "PASS …", s.failed.line)
			}
			return nil
		},
	},
	{
		ID: "pop3.auth.failure-stays", Title: "After a failed PASS the session stays in AUTHORIZATION or ends; it never enters TRANSACTION", Spec: "RFC 1939 §4, §7", Level: engine.Must,
		Run: failureStays,
	},
	{
		ID: "pop3.quit.before-login", Title: "QUIT before login gets +OK and the connection closes", Spec: "RFC 1939 §4, §6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			t.Require(err)
			s.expect("QUIT", true, "QUIT in AUTHORIZATION")
			if !s.c.Closed(3 * time.Second) {
				t.FailNow("connection still open 3s after QUIT")
			}
			return nil
		},
	},
}

// failedLogin is a session just after PASS with a wrong password.
type failedLogin struct {
	*session
	failed reply // PASS's reply
}

// wrongPassword dials, sends USER with the target's user and PASS with a
// wrong password. USER refused is an unmet precondition.
func wrongPassword(ctx context.Context, t *engine.T) failedLogin {
	if t.Target.User == "" {
		t.Precondition("needs a login: pop3://user:password@host:port")
	}
	s, err := dial(ctx, t)
	t.Require(err)
	s.setup("USER " + t.Target.User)
	// Servers delay a failed login on purpose (Dovecot: 2s and more after
	// repeated failures).
	s.c.SetPatience(15 * time.Second)
	return failedLogin{s, s.do("PASS wrong-mailcheck-password")}
}

// failureStays: RFC 1939 §4, "After returning a negative status indicator,
// the server may close the connection. If the server does not close the
// connection, the client may either issue a new authentication command and
// start again, or the client may issue the QUIT command." So after a
// refused PASS the server either ends the session or stays in
// AUTHORIZATION, ready for a new attempt; what it must never do is enter
// TRANSACTION.
func failureStays(ctx context.Context, t *engine.T) error {
	s := wrongPassword(ctx, t)
	if s.failed.ok {
		t.SkipNow("the wrong password was not refused (%q); see pop3.auth.wrong-password", s.failed.line)
	}
	closedPass := func() {
		t.Pass("the server closed the connection after the failed PASS, as RFC 1939 §4 allows")
		t.Stop()
	}
	if s.c.Closed(300 * time.Millisecond) {
		closedPass()
	}
	stat, closed := s.untilClosed("STAT")
	if closed {
		closedPass()
	}
	if stat.ok {
		statBeforeAnyLogin(ctx, t)
		t.FailNow("after a refused PASS, STAT got %q: the session entered TRANSACTION without a login", stat.line)
	}
	user, closed := s.untilClosed("USER " + t.Target.User)
	if closed {
		closedPass()
	}
	if !user.ok {
		t.FailNow("a new authentication attempt after a failed PASS: USER got %q; RFC 1939 §4 lets the client start again", user.line)
	}
	pass, closed := s.untilClosed("PASS " + t.Target.Password)
	switch {
	case closed:
		closedPass()
	case pass.ok:
	case pass.code.is("IN-USE") || pass.code.is("LOGIN-DELAY") || pass.code.is("SYS/TEMP"):
		t.Pass("still in AUTHORIZATION: the new attempt was refused for now with %q", pass.line)
	default:
		t.FailNow("the right password after a wrong one got %q: the server did not take a new authentication attempt", pass.line)
	}
	return nil
}

// statBeforeAnyLogin ends the check as a precondition when the server
// answers STAT +OK before any login too: that is
// pop3.state.stat-before-login's fault, not evidence of a login.
func statBeforeAnyLogin(ctx context.Context, t *engine.T) {
	fresh, err := dial(ctx, t)
	t.Require(err)
	if r := fresh.do("STAT"); r.ok {
		t.Precondition("STAT is answered +OK before any login too (%q); see pop3.state.stat-before-login", r.line)
	}
}

// untilClosed is do for a server that may close the connection at any
// point (after a failed login, RFC 1939 §4): closed reports that it did.
func (s *session) untilClosed(line string) (r reply, closed bool) {
	st, err := s.cmd(line)
	if err != nil && (errors.Is(err, engine.ErrServerClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
		return reply{}, true
	}
	s.t.Require(err)
	r, perr := parseReply(st)
	if perr != nil {
		s.t.Precondition("%s: the answer is malformed: %v (see pop3.status.case)", shown(line), perr)
	}
	return r, false
}
