package pop3suite

import (
	"context"
	"errors"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

var basicChecks = []*engine.Check{
	{
		ID: "pop3.greeting.ok", Title: "The greeting is a +OK line", Spec: "RFC 1939 §4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			if err != nil {
				return err
			}
			if !strings.HasPrefix(s.greeting, "+OK") {
				t.Fail("greeting %q: the server issues a positive response (+OK)", s.greeting)
			}
			return nil
		},
	},
	{
		ID: "pop3.status.case", Title: "Every status indicator is exactly +OK or -ERR, upper case", Spec: "RFC 1939 §3", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			if err != nil {
				return err
			}
			// Two refused commands at most: servers may hang up on a client
			// that keeps sending bad ones (Dovecot does after three).
			lines := []string{s.greeting}
			for _, c := range []string{"STAT", "NOOP", "USER mailcheck-probe", "QUIT"} {
				st, err := s.cmd(c)
				if err != nil {
					return err
				}
				lines = append(lines, st)
			}
			for _, l := range lines {
				if l != "+OK" && l != "-ERR" && !strings.HasPrefix(l, "+OK ") && !strings.HasPrefix(l, "-ERR ") {
					t.Fail("status line %q: it must start with \"+OK\" or \"-ERR\" in upper case", l)
					return nil
				}
			}
			return nil
		},
	},
	{
		ID: "pop3.multiline.terminated", Title: "Multi-line responses end with a line holding a single \".\"", Spec: "RFC 1939 §3", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			judged := 0
			for _, c := range []string{"CAPA", "LIST", "UIDL"} {
				st, err := s.cmd(c)
				if err != nil {
					return err
				}
				if negative(st) {
					continue // optional command not offered
				}
				if !positive(st) {
					// RFC 1939 §3: every response starts with a status
					// indicator; what follows this one is anyone's guess.
					t.Fail("%s answered %q, neither +OK nor -ERR", c, st)
					return nil
				}
				if _, _, err := s.multi(); err != nil {
					if errors.Is(err, errUnterminated) {
						t.Fail("%s: %v", c, err)
						return nil
					}
					return err
				}
				judged++
			}
			if judged == 0 {
				t.Skip("CAPA, LIST and UIDL all answered -ERR: no multi-line response to judge")
			}
			return nil
		},
	},
	{
		ID: "pop3.noop.ok", Title: "NOOP in TRANSACTION gets +OK", Spec: "RFC 1939 §5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			_, _, err = s.want("NOOP", true, "NOOP always succeeds")
			return err
		},
	},
	{
		ID: "pop3.capa.both-states", Title: "CAPA answers in AUTHORIZATION and in TRANSACTION", Spec: "RFC 2449 §5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			if err != nil {
				return err
			}
			caps, err := s.capa()
			if err != nil {
				return err
			}
			if caps == nil {
				t.Skip("CAPA not supported")
				return nil
			}
			s, err = login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			if caps, err := s.capa(); err != nil {
				return err
			} else if caps == nil {
				t.Fail("CAPA works before login but not in TRANSACTION")
			}
			return nil
		},
	},
	{
		ID: "pop3.pipelining.order", Title: "With PIPELINING, a batch of commands gets every response, in order", Spec: "RFC 2449 §6.6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			caps, err := s.capa()
			if err != nil {
				return err
			}
			if _, ok := caps["PIPELINING"]; !ok {
				t.Skip("PIPELINING not in CAPA")
				return nil
			}
			if err := s.c.Write([]byte("NOOP\r\nSTAT\r\nXYZZY\r\nNOOP\r\n")); err != nil {
				return err
			}
			want := []bool{true, true, false, true}
			for i, ok := range want {
				l, err := s.c.ReadLine()
				if err != nil {
					t.Fail("%d of 4 responses to a pipelined batch arrived (%v): input was lost", i, err)
					return nil
				}
				if positive(trim(l)) != ok {
					t.Fail("response %d is %q: responses out of order", i+1, trim(l))
					return nil
				}
			}
			return nil
		},
	},
}
