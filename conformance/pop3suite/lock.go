package pop3suite

import (
	"context"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// secondLogin logs in while another session holds the maildrop and
// returns the second PASS's reply and the CAPA listing before it. A
// refusal for another reason than the lock (LOGIN-DELAY, SYS/TEMP) says
// nothing of the lock: an unmet precondition.
func secondLogin(ctx context.Context, t *engine.T) (reply, capaListing) {
	first := login(ctx, t)
	defer first.cmd("QUIT")
	second, err := dial(ctx, t)
	t.Require(err)
	defer second.c.Close()
	caps, _ := second.capa()
	second.setup("USER " + t.Target.User)
	r := second.do("PASS " + t.Target.Password)
	if r.ok {
		second.cmd("QUIT")
	}
	if r.code.is("LOGIN-DELAY") || r.code.is("SYS/TEMP") {
		t.Require(refusedLogin(r))
	}
	return r, caps
}

var lockChecks = []*engine.Check{
	{
		ID: "pop3.lock.exclusive", Title: "A second session for a maildrop in use is refused", Spec: "RFC 1939 §4, §8", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			if r, _ := secondLogin(ctx, t); r.ok {
				t.FailNow("a second concurrent session was let in (%q): the maildrop is not locked", r.line)
			}
			return nil
		},
	},
	{
		ID: "pop3.lock.in-use-code", Title: "With RESP-CODES, a locked maildrop is refused with [IN-USE]", Spec: "RFC 2449 §8.1.2", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			r, caps := secondLogin(ctx, t)
			need(t, caps, "RESP-CODES")
			switch {
			case r.ok:
				t.SkipNow("the maildrop is not locked (see pop3.lock.exclusive)")
			case r.code.is("IN-USE"):
				return nil
			case r.codeProblem() != nil:
				t.Precondition("the refusal carries a malformed response code: %v (see pop3.resp-codes.syntax)", r.codeProblem())
			}
			t.FailNow("refused with %q, without the [IN-USE] response code", r.line)
			return nil
		},
	},
}
