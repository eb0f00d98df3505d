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
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			_, _, err = s.want("NOOP", "NOOP is required and always succeeds", 250)
			return err
		},
	},
	{
		ID: "smtp.rset.ok", Title: "RSET gets 250", Spec: "RFC 5321 §4.1.1.5, §4.5.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			_, _, err = s.want("RSET", "RSET is required", 250)
			return err
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
			_, _, err = s.want("VRFY postmaster", "VRFY must be implemented", 250, 251, 252, 550, 551, 553)
			return err
		},
	},
	{
		ID: "smtp.quit.closes", Title: "QUIT gets 221 and the server closes the connection", Spec: "RFC 5321 §4.1.1.10", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			if _, ok, err := s.want("QUIT", "QUIT", 221); !ok || err != nil {
				return err
			}
			if !s.c.Closed(3 * time.Second) {
				t.Fail("the connection is still open 3s after 221")
			}
			return nil
		},
	},
	{
		ID: "smtp.command.unknown", Title: "An unknown command gets 500", Spec: "RFC 5321 §4.2.4", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			if _, ok, err := s.want("XYZZY", "an unrecognized command", 500); !ok || err != nil {
				return err
			}
			_, _, err = s.want("NOOP", "the session goes on after an unknown command", 250)
			return err
		},
	},
	{
		ID: "smtp.postmaster.bare", Title: "RCPT TO:<Postmaster> without a domain is accepted", Spec: "RFC 5321 §4.1.1.3, §4.5.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := mailed(ctx, t)
			if s == nil || err != nil {
				return err
			}
			_, _, err = s.want("RCPT TO:<Postmaster>", "the postmaster without domain MUST be accepted", 250, 251)
			return err
		},
	},
	{
		ID: "smtp.postmaster.domain", Title: "postmaster@ the recipient's domain is accepted", Spec: "RFC 5321 §4.5.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			if !needRcpt(t) {
				return nil
			}
			s, err := mailed(ctx, t)
			if s == nil || err != nil {
				return err
			}
			_, _, err = s.want("RCPT TO:<postmaster@"+domainOf(t.Options.Rcpt)+">", "postmaster at a domain the server serves MUST be accepted", 250, 251)
			return err
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
