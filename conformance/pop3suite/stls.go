package pop3suite

import (
	"context"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

var stlsChecks = []*engine.Check{
	{
		ID: "pop3.stls.in-transaction", Title: "STLS after login gets -ERR", Spec: "RFC 2595 §4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			probe, err := dial(ctx, t)
			t.Require(err)
			need(t, probe.capaOrSkip(), "STLS")
			login(ctx, t).expect("STLS", false, "STLS is only permitted in AUTHORIZATION")
			return nil
		},
	},
	{
		ID: "pop3.stls.capa-after", Title: "After STLS, CAPA no longer lists STLS", Spec: "RFC 2595 §4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			t.Require(err)
			if t.Target.ImplicitTLS {
				t.SkipNow("STLS not in CAPA")
			}
			need(t, s.capaOrSkip(), "STLS")
			s.setup("STLS")
			t.Require(s.c.StartTLS())
			after, ok := s.capa()
			if !ok {
				t.Precondition("CAPA refused after the TLS handshake: nothing to judge")
			}
			if after.has("STLS") {
				t.FailNow("CAPA still lists STLS after the TLS handshake")
			}
			return nil
		},
	},
}
