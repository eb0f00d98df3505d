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
			if err != nil {
				return err
			}
			caps, err := probe.capa()
			if err != nil {
				return err
			}
			if _, ok := caps["STLS"]; !ok {
				t.Skip("STLS not in CAPA")
				return nil
			}
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			_, _, err = s.want("STLS", false, "STLS is only permitted in AUTHORIZATION")
			return err
		},
	},
	{
		ID: "pop3.stls.capa-after", Title: "After STLS, CAPA no longer lists STLS", Spec: "RFC 2595 §4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			if err != nil {
				return err
			}
			caps, err := s.capa()
			if err != nil {
				return err
			}
			if _, ok := caps["STLS"]; !ok || t.Target.ImplicitTLS {
				t.Skip("STLS not in CAPA")
				return nil
			}
			if _, ok, err := s.want("STLS", true, "STLS offered in CAPA"); !ok || err != nil {
				return err
			}
			if err := s.c.StartTLS(); err != nil {
				return err
			}
			after, err := s.capa()
			if err != nil {
				return err
			}
			if _, still := after["STLS"]; still {
				t.Fail("CAPA still lists STLS after the TLS handshake")
			}
			return nil
		},
	},
}
