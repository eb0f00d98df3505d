package smtpsuite

import (
	"context"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

var commandChecks = []*engine.Check{
	{
		ID: "smtp.noop.ok", Title: "NOOP gets 250", Spec: "RFC 5321 §4.1.1.9, §4.5.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s := open(ctx, t)
			s.expect("NOOP", "NOOP is required and always succeeds", 250)
			return nil
		},
	},
	{
		ID: "smtp.rset.ok", Title: "RSET gets 250", Spec: "RFC 5321 §4.1.1.5, §4.5.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s := open(ctx, t)
			s.expect("RSET", "RSET is required", 250)
			return nil
		},
	},
	{
		ID: "smtp.vrfy.implemented", Title: "VRFY is implemented (no 500/502)", Spec: "RFC 5321 §3.5.3, §4.5.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			// §3.5.3: a server that will not verify answers 252; 550 and
			// 553 are answers too. Only "not implemented" is wrong.
			s.expect("VRFY postmaster", "VRFY must be implemented", 250, 251, 252, 550, 551, 553)
			return nil
		},
	},
	{
		ID: "smtp.quit.closes", Title: "QUIT gets 221 and the server closes the connection", Spec: "RFC 5321 §4.1.1.10", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			s.expect("QUIT", "QUIT", 221)
			if !s.c.Closed(3 * time.Second) {
				t.Fail("the connection is still open 3s after 221")
			}
			return nil
		},
	},
	{
		ID: "smtp.command.unknown", Title: "An unknown command gets 500", Spec: "RFC 5321 §4.2.4", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			s := open(ctx, t)
			s.expect("XYZZY", "an unrecognized command", 500)
			// The session goes on: any reply to NOOP shows it (whether
			// NOOP gets 250 is smtp.noop.ok's business).
			if r := s.send("NOOP"); r.Code == 421 {
				t.FailNow("after an unknown command the server ends the session: NOOP got %s", s.describe(r))
			}
			return nil
		},
	},
	{
		ID: "smtp.postmaster.bare", Title: "RCPT TO:<Postmaster> without a domain is accepted", Spec: "RFC 5321 §4.1.1.3, §4.5.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s := openTransaction(ctx, t)
			// No DATA follows: nothing is left in the postmaster's mailbox.
			defer s.cmd("RSET")
			s.expect("RCPT TO:<Postmaster>", "the postmaster without domain MUST be accepted", 250, 251)
			return nil
		},
	},
	{
		ID: "smtp.postmaster.domain", Title: "postmaster@ the recipient's domain is accepted", Spec: "RFC 5321 §4.5.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			needRcpt(t)
			s := openTransaction(ctx, t)
			defer s.cmd("RSET")
			s.expect("RCPT TO:<postmaster@"+domainOf(t.Options.Rcpt)+">", "postmaster at a domain the server serves MUST be accepted", 250, 251)
			return nil
		},
	},
	{
		ID: "smtp.rcpt.unknown-user", Title: "An unknown local recipient gets 550 (or 551/553), not a syntax error", Spec: "RFC 5321 §3.3, §4.2.2, §4.3.2", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			s := openRecipient(ctx, t)
			defer s.cmd("RSET")
			// A local part no one has, at the domain the server took
			// --rcpt for: well formed, so not a 501 (§4.2.2: syntax error
			// in parameters or arguments).
			addr := "mailcheck-no-such-user-" + nonce() + "@" + domainOf(t.Options.Rcpt)
			r := s.send("RCPT TO:<" + addr + ">")
			switch {
			case r.Code == 550 || r.Code == 551 || r.Code == 553:
			case r.Code == 250 || r.Code == 251 || r.Code == 252:
				// Servers that do not know their users at RCPT time (or
				// a catch-all) accept and bounce later.
				t.SkipNow("accepted (%s): the server does not refuse unknown users at RCPT time", s.describe(r))
			case r.Code/100 == 4:
				t.Precondition("RCPT answered %s, a temporary failure that tells nothing", s.describe(r))
			case r.Code >= 500 && r.Code <= 504:
				t.FailNow("the unknown recipient <%s> got %s: a syntax or sequence error for a well-formed address; §3.3 answers an unknown mailbox 550 (or 551, 553)", addr, s.describe(r))
			default:
				t.Pass("refused with %s (not 550, 551 or 553, which §3.3 names, but not a syntax error either)", s.describe(r))
			}
			return nil
		},
	},
}

func domainOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == '@' {
			return addr[i+1:]
		}
	}
	return addr
}
