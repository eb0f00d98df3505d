package smtpsuite

import (
	"context"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

var policyChecks = []*engine.Check{
	{
		ID: "smtp.relay.refused", Title: "An unauthenticated client cannot relay to a foreign domain", Spec: "RFC 5321 §3.6.2, RFC 2505 §2.6.1", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := mailed(ctx, t)
			if s == nil || err != nil {
				return err
			}
			// .invalid never resolves (RFC 2606): nothing can be delivered
			// even if the server is an open relay.
			r, err := s.cmd("RCPT TO:<relay-probe@mailcheck-relay-test.invalid>")
			if err != nil {
				return err
			}
			if r.Code == 250 || r.Code == 251 {
				t.Fail("RCPT to a foreign domain without authentication got %s: an open relay", r)
			}
			s.cmd("RSET")
			return nil
		},
	},
}
