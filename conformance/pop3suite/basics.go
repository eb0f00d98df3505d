package pop3suite

import (
	"context"
	"errors"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

var basicChecks = []*engine.Check{
	{
		ID: "pop3.greeting.ok", Title: "The greeting is a +OK line", Spec: "RFC 1939 §4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			t.Require(err)
			if r, err := parseReply(s.greeting); err != nil || !r.ok {
				t.FailNow("greeting %q: the server issues a positive response (+OK)", s.greeting)
			}
			return nil
		},
	},
	{
		ID: "pop3.status.case", Title: "Every status indicator is exactly +OK or -ERR, upper case", Spec: "RFC 1939 §3", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			t.Require(err)
			// Two refused commands at most: servers may hang up on a client
			// that keeps sending bad ones (Dovecot does after three).
			lines := []string{s.greeting}
			for _, c := range []string{"STAT", "NOOP", "USER mailcheck-probe", "QUIT"} {
				st, err := s.cmd(c)
				t.Require(err)
				lines = append(lines, st)
			}
			for _, l := range lines {
				if _, err := parseReply(l); err != nil {
					t.FailNow("%v", err)
				}
			}
			return nil
		},
	},
	{
		ID: "pop3.multiline.terminated", Title: "Multi-line responses end with a line holding a single \".\"", Spec: "RFC 1939 §3", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s := login(ctx, t)
			judged := 0
			for _, c := range []string{"CAPA", "LIST", "UIDL"} {
				if !s.do(c).ok {
					continue // optional command not offered
				}
				_, _, err := s.multi()
				if errors.Is(err, errUnterminated) {
					t.FailNow("%s: %v", c, err)
				}
				t.Require(err)
				judged++
			}
			if judged == 0 {
				t.SkipNow("CAPA, LIST and UIDL all answered -ERR: no multi-line response to judge")
			}
			return nil
		},
	},
	{
		ID: "pop3.noop.ok", Title: "NOOP in TRANSACTION gets +OK", Spec: "RFC 1939 §5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			login(ctx, t).expect("NOOP", true, "NOOP always succeeds")
			return nil
		},
	},
	{
		ID: "pop3.capa.both-states", Title: "CAPA answers in AUTHORIZATION and in TRANSACTION", Spec: "RFC 2449 §5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			t.Require(err)
			s.capaOrSkip()
			if _, ok := login(ctx, t).capa(); !ok {
				t.FailNow("CAPA works before login but not in TRANSACTION")
			}
			return nil
		},
	},
	{
		ID: "pop3.pipelining.order", Title: "With PIPELINING, a batch of commands gets every response, in order", Spec: "RFC 2449 §6.6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s := login(ctx, t)
			need(t, s.capaOrSkip(), "PIPELINING")
			t.Require(s.c.Write([]byte("NOOP\r\nSTAT\r\nXYZZY\r\nNOOP\r\n")))
			want := []bool{true, true, false, true}
			for i, ok := range want {
				l, err := s.c.ReadLine()
				if err != nil {
					t.FailNow("%d of 4 responses to a pipelined batch arrived (%v): input was lost", i, err)
				}
				r, err := parseReply(trim(l))
				if err != nil {
					t.Precondition("response %d: %v (see pop3.status.case)", i+1, err)
				}
				if r.ok != ok {
					t.FailNow("response %d is %q: responses out of order", i+1, r.line)
				}
			}
			return nil
		},
	},
}
