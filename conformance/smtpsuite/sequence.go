package smtpsuite

import (
	"context"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

var sequenceChecks = []*engine.Check{
	{
		ID: "smtp.sequence.rcpt-before-mail", Title: "RCPT before MAIL gets 503", Spec: "RFC 5321 §4.1.4, §4.3.2", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			_, _, err = s.want("RCPT TO:<postmaster>", "no transaction is open", 503)
			return err
		},
	},
	{
		ID: "smtp.sequence.data-before-rcpt", Title: "DATA without an accepted RCPT gets 503 (or 554), never 354", Spec: "RFC 5321 §3.3, §4.1.4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := mailed(ctx, t)
			if s == nil || err != nil {
				return err
			}
			// §3.3: with no valid recipient the server MAY answer 503 or 554.
			_, _, err = s.want("DATA", "DATA with no recipient", 503, 554)
			return err
		},
	},
	{
		ID: "smtp.sequence.rset-clears", Title: "RSET discards the transaction", Spec: "RFC 5321 §4.1.1.5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := mailed(ctx, t)
			if s == nil || err != nil {
				return err
			}
			if _, ok, err := s.want("RSET", "RSET", 250); !ok || err != nil {
				return err
			}
			_, _, err = s.want("RCPT TO:<postmaster>", "after RSET no transaction is open", 503)
			return err
		},
	},
	{
		ID: "smtp.sequence.noop-keeps", Title: "NOOP leaves the transaction as it was", Spec: "RFC 5321 §4.1.1.9", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := mailed(ctx, t)
			if s == nil || err != nil {
				return err
			}
			if _, ok, err := s.want("NOOP", "NOOP", 250); !ok || err != nil {
				return err
			}
			_, _, err = s.want("RCPT TO:<postmaster>", "NOOP must not reset the transaction", 250, 251)
			return err
		},
	},
	{
		ID: "smtp.sequence.ehlo-resets", Title: "EHLO inside a transaction resets it", Spec: "RFC 5321 §4.1.4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := mailed(ctx, t)
			if s == nil || err != nil {
				return err
			}
			if err := s.ehlo(); err != nil {
				return err
			}
			_, _, err = s.want("RCPT TO:<postmaster>", "EHLO must clear the transaction as RSET does", 503)
			return err
		},
	},
	{
		ID: "smtp.mail.null-sender", Title: "MAIL FROM:<> (the null reverse-path) is accepted", Spec: "RFC 5321 §4.5.5, §6.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			_, _, err = s.want("MAIL FROM:<>", "bounces use the null reverse-path and must be accepted", 250)
			return err
		},
	},
	{
		ID: "smtp.mail.unknown-parameter", Title: "An unknown MAIL parameter is refused (555 or 501)", Spec: "RFC 5321 §4.1.1.11, §4.2.2", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			_, _, err = s.want("MAIL FROM:<"+t.Options.From+"> XMAILCHECK-UNKNOWN=1", "a parameter the server did not advertise", 555, 501, 504)
			return err
		},
	},
}
