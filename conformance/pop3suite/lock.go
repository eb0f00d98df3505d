package pop3suite

import (
	"context"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// secondLogin logs in while another session holds the maildrop and
// returns the second PASS's status line (or "" when it was skipped).
func secondLogin(ctx context.Context, t *engine.T) (status string, caps map[string]string, err error) {
	first, err := login(ctx, t)
	if first == nil || err != nil {
		return "", nil, err
	}
	defer first.cmd("QUIT")
	second, err := dial(ctx, t)
	if err != nil {
		return "", nil, err
	}
	defer second.c.Close()
	if caps, err = second.capa(); err != nil {
		return "", nil, err
	}
	if st, err := second.cmd("USER " + t.Target.User); err != nil || !positive(st) {
		return "", nil, err
	}
	status, err = second.cmd("PASS " + t.Target.Password)
	if positive(status) {
		second.cmd("QUIT")
	}
	return status, caps, err
}

var lockChecks = []*engine.Check{
	{
		ID: "pop3.lock.exclusive", Title: "A second session for a maildrop in use is refused", Spec: "RFC 1939 §4, §8", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			st, _, err := secondLogin(ctx, t)
			if st == "" || err != nil {
				return err
			}
			if positive(st) {
				t.Fail("a second concurrent session was let in (%q): the maildrop is not locked", st)
			}
			return nil
		},
	},
	{
		ID: "pop3.lock.in-use-code", Title: "With RESP-CODES, a locked maildrop is refused with [IN-USE]", Spec: "RFC 2449 §8.1.2", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			st, caps, err := secondLogin(ctx, t)
			if st == "" || err != nil {
				return err
			}
			if _, ok := caps["RESP-CODES"]; !ok {
				t.Skip("RESP-CODES not in CAPA")
				return nil
			}
			if positive(st) {
				t.Skip("the maildrop is not locked (see pop3.lock.exclusive)")
				return nil
			}
			if !strings.Contains(st, "[IN-USE]") {
				t.Fail("refused with %q, without the [IN-USE] response code", st)
			}
			return nil
		},
	},
}
