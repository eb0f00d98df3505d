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
			t.Require(err)
			r, err := parseReply(s.greeting)
			if err != nil && wrongCase(s.greeting) {
				t.Precondition("the greeting %q is positive but its status indicator is malformed (see pop3.status.case)", s.greeting)
			}
			if err != nil || !r.ok {
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
			// The greeting is pop3.greeting.ok's subject: judged here only for
			// the case of its indicator.
			if _, err := parseReply(s.greeting); err != nil && wrongCase(s.greeting) {
				t.FailNow("%v", err)
			}
			for _, l := range lines[1:] {
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
			// Each command's answer is learnt in lock-step first: the check
			// judges what pipelining changes (input lost, answers out of
			// order), not the commands themselves.
			batch := []string{"NOOP", "STAT", "XYZZY", "NOOP"}
			var want []bool
			for _, c := range batch {
				want = append(want, s.do(c).ok)
			}
			t.Require(s.pop.Write([]byte(strings.Join(batch, "\r\n") + "\r\n")))
			for i, ok := range want {
				l, err := s.pop.ReadLine()
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

// wrongCase reports a line whose status indicator is "+OK" or "-ERR" in
// the wrong case ("+ok"): a status, malformed.
func wrongCase(line string) bool {
	word, _, _ := strings.Cut(line, " ")
	return strings.EqualFold(word, "+OK") || strings.EqualFold(word, "-ERR")
}
