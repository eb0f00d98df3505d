package smtpsuite

import (
	"context"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

var policyChecks = []*engine.Check{
	{
		ID: "smtp.relay.refused", Title: "An unauthenticated client cannot relay to a foreign domain", Spec: "RFC 5321 §3.6.2, RFC 2505 §2.6.1", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			s := openTransaction(ctx, t)
			defer s.cmd("RSET") // no DATA: nothing is relayed
			// .invalid never resolves (RFC 2606): nothing can be delivered
			// even if the server is an open relay.
			if r := s.send("RCPT TO:<relay-probe@mailcheck-relay-test.invalid>"); r.Code == 250 || r.Code == 251 {
				t.FailNow("RCPT to a foreign domain without authentication got %s: an open relay", s.describe(r))
			}
			return nil
		},
	},
}
