package pop3suite

import (
	"context"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

var stateChecks = []*engine.Check{
	{
		ID: "pop3.state.stat-before-login", Title: "STAT before login gets -ERR", Spec: "RFC 1939 §4, §5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			if err != nil {
				return err
			}
			_, _, err = s.want("STAT", false, "STAT is valid only in TRANSACTION")
			return err
		},
	},
	{
		ID: "pop3.state.user-after-login", Title: "USER after login gets -ERR", Spec: "RFC 1939 §7", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			_, _, err = s.want("USER "+t.Target.User, false, "USER is valid only in AUTHORIZATION")
			return err
		},
	},
	{
		ID: "pop3.auth.wrong-password", Title: "A wrong PASS gets -ERR", Spec: "RFC 1939 §7", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			user, _, ok := credentials(t)
			if !ok {
				return nil
			}
			s, err := dial(ctx, t)
			if err != nil {
				return err
			}
			if _, ok, err := s.want("USER "+user, true, "USER"); !ok || err != nil {
				return err
			}
			s.c.SetPatience(15 * time.Second)
			_, _, err = s.want("PASS wrong-mailcheck-password", false, "a wrong password")
			return err
		},
	},
	{
		ID: "pop3.auth.failure-stays", Title: "After a failed PASS the session stays in AUTHORIZATION", Spec: "RFC 1939 §4, §7", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			user, pass, ok := credentials(t)
			if !ok {
				return nil
			}
			s, err := dial(ctx, t)
			if err != nil {
				return err
			}
			s.cmd("USER " + user)
			// Servers delay a failed login on purpose (Dovecot: 2s and more
			// after repeated failures).
			s.c.SetPatience(15 * time.Second)
			st, err := s.cmd("PASS wrong-mailcheck-password")
			if err != nil {
				return err
			}
			if positive(st) {
				t.Skip("the wrong password was not refused (%q); see pop3.auth.wrong-password", st)
				return nil
			}
			if s.c.Closed(300 * time.Millisecond) {
				t.Fail("the server closed the connection after a failed PASS; the client may try again")
				return nil
			}
			if _, ok, err := s.want("USER "+user, true, "a new authentication attempt after a failed PASS"); !ok || err != nil {
				return err
			}
			st, err = s.cmd("PASS " + pass)
			if err != nil {
				return err
			}
			if !positive(st) && !strings.Contains(st, "IN-USE") {
				t.Fail("the right password after a wrong one got %q", st)
			}
			return nil
		},
	},
	{
		ID: "pop3.quit.before-login", Title: "QUIT before login gets +OK and the connection closes", Spec: "RFC 1939 §4, §6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			if err != nil {
				return err
			}
			if _, ok, err := s.want("QUIT", true, "QUIT in AUTHORIZATION"); !ok || err != nil {
				return err
			}
			if !s.c.Closed(3 * time.Second) {
				t.Fail("connection still open 3s after QUIT")
			}
			return nil
		},
	},
}
