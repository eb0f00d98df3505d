package smtpsuite

import (
	"context"
	"errors"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// tlsSession is an EHLO'd plaintext session of a server offering STARTTLS;
// nil (and the check skipped) otherwise.
func tlsSession(ctx context.Context, t *engine.T) (*session, error) {
	if t.Target.ImplicitTLS {
		t.Skip("implicit TLS target: STARTTLS does not apply")
		return nil, nil
	}
	s, err := ehloed(ctx, t)
	if err != nil {
		return nil, err
	}
	if !s.has("STARTTLS") {
		t.Skip("STARTTLS not advertised")
		return nil, nil
	}
	return s, nil
}

var startTLSChecks = []*engine.Check{
	{
		ID: "smtp.starttls.arguments", Title: "STARTTLS with an argument gets 501", Spec: "RFC 3207 §4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := tlsSession(ctx, t)
			if s == nil || err != nil {
				return err
			}
			s.expect("STARTTLS now", "STARTTLS takes no parameters", 501)
			return nil
		},
	},
	{
		ID: "smtp.starttls.not-offered-after", Title: "After TLS, EHLO no longer offers STARTTLS", Spec: "RFC 3207 §4.2", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := tlsSession(ctx, t)
			if s == nil || err != nil {
				return err
			}
			if err := s.startTLS(); err != nil {
				return err
			}
			if s.has("STARTTLS") {
				t.Fail("STARTTLS still advertised in the EHLO reply after the TLS handshake")
			}
			return nil
		},
	},
	{
		ID: "smtp.starttls.no-injection", Title: "Plaintext pipelined behind STARTTLS is not executed", Spec: "RFC 3207 §4.2, §6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := tlsSession(ctx, t)
			if s == nil || err != nil {
				return err
			}
			// An attacker in the path appends commands to the plaintext
			// STARTTLS; a server that runs them after the handshake answers
			// them inside TLS (CVE-2011-0411).
			// This is the one place the suite writes past a reply it is
			// owed without PIPELINING, on purpose: it is the attack. A
			// server that refuses input sent ahead of its reply, or closes
			// on it, runs nothing injected: a pass.
			if err := s.c.Write([]byte("STARTTLS\r\nNOOP\r\n")); err != nil {
				return err
			}
			r, err := s.read()
			if errors.Is(err, engine.ErrServerClosed) && !s.has("PIPELINING") {
				t.Pass("the server closed the connection on input sent ahead of its reply: nothing injected can run")
				return nil
			}
			t.Require(err)
			switch {
			case r.Code != 220 && !s.has("PIPELINING"):
				t.Pass("STARTTLS with input sent ahead of its reply answered %s: nothing injected can run", s.describe(r))
				return nil
			case r.Code != 220:
				t.Precondition("STARTTLS answered %s", s.describe(r))
			}
			if err := s.c.StartTLS(); err != nil {
				return err
			}
			if err := s.c.Send("EHLO " + t.Options.ClientName); err != nil {
				return err
			}
			// One command inside TLS, so one reply: a second one means the
			// plaintext NOOP ran.
			if _, err := s.read(); err != nil {
				return err
			}
			extra, err := s.c.Quiet(300 * time.Millisecond)
			if err != nil {
				return err
			}
			if len(extra) > 0 {
				t.Fail("two replies to one command inside TLS: the plaintext NOOP sent before the handshake was executed")
			}
			return nil
		},
	},
}
