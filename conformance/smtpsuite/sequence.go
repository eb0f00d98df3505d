package smtpsuite

import (
	"context"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// The sequence checks need "a recipient the server accepts": that is the
// --rcpt address, never the bare postmaster (smtp.postmaster.bare judges
// that one). None of them completes DATA: they end with RSET and leave
// nothing in a mailbox.

var sequenceChecks = []*engine.Check{
	{
		ID: "smtp.sequence.rcpt-before-mail", Title: "RCPT before MAIL gets 503", Spec: "RFC 5321 §4.1.4, §4.3.2", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s := open(ctx, t)
			// §4.1.4: commands "out of order to the degree that they
			// cannot be processed" MUST get 503.
			s.expect("RCPT TO:<"+anyRecipient(t)+">", "no transaction is open", 503)
			return nil
		},
	},
	{
		ID: "smtp.sequence.data-before-rcpt", Title: "DATA without an accepted RCPT gets 503 (or 554), never 354", Spec: "RFC 5321 §3.3, §4.1.4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s := openTransaction(ctx, t)
			// §3.3: with no valid recipient the server MAY answer 503 or 554.
			s.expect("DATA", "DATA with no recipient", 503, 554)
			s.send("RSET")
			return nil
		},
	},
	{
		ID: "smtp.sequence.rset-clears", Title: "RSET discards the transaction", Spec: "RFC 5321 §4.1.1.5, §4.1.4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			if t.Options.Rcpt == "" {
				return rsetThenNewTransaction(ctx, t)
			}
			s := openRecipient(ctx, t)
			s.setup("RSET", 250)
			dataRefused(t, s, "RSET")
			return nil
		},
	},
	{
		ID: "smtp.sequence.noop-keeps", Title: "NOOP leaves the transaction as it was", Spec: "RFC 5321 §4.1.1.9", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s := openRecipient(ctx, t)
			s.setup("NOOP", 250)
			// A second RCPT for the same address is still part of the
			// transaction; after a reset it would be out of sequence (503).
			s.expect(rcptCommand(t), "NOOP must not reset the transaction", 250, 251)
			s.send("RSET")
			return nil
		},
	},
	{
		ID: "smtp.sequence.ehlo-resets", Title: "EHLO inside a transaction resets it", Spec: "RFC 5321 §4.1.4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s := openRecipient(ctx, t)
			// §4.1.4: a later EHLO resets the session "if it is
			// acceptable"; a server may refuse it (503), and then there
			// is no reset to observe.
			if r := s.send("EHLO " + t.Options.ClientName); r.Code != 250 {
				t.Precondition("a second EHLO answered %s (a server may refuse it; only an accepted EHLO resets)", s.describe(r))
			}
			dataRefused(t, s, "EHLO")
			return nil
		},
	},
	{
		ID: "smtp.mail.null-sender", Title: "MAIL FROM:<> (the null reverse-path) is accepted", Spec: "RFC 5321 §4.5.5, §6.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s := open(ctx, t)
			s.expect("MAIL FROM:<>", "bounces use the null reverse-path and must be accepted", 250)
			s.send("RSET")
			return nil
		},
	},
	{
		ID: "smtp.mail.unknown-parameter", Title: "An unknown MAIL parameter is refused (555 or 501)", Spec: "RFC 5321 §4.1.1.11, §4.2.2", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			s := open(ctx, t)
			s.expect("MAIL FROM:<"+t.Options.From+"> XMAILCHECK-UNKNOWN=1", "a parameter the server did not advertise", 555, 501, 504)
			return nil
		},
	},
}

// dataRefused judges a reset by DATA: with the transaction (sender and
// recipient) gone, DATA is out of sequence and refused (503, §4.1.4; or
// 554, §3.3); a 354 means the recipient survived the reset. DATA, unlike
// RCPT, does not depend on whether the server takes RCPT without MAIL
// (smtp.sequence.rcpt-before-mail's subject). After a 354 the check ends
// without sending data: the closed connection aborts the transaction,
// and nothing is delivered.
func dataRefused(t *engine.T, s *session, reset string) {
	r := s.send("DATA")
	switch {
	case r.Code == 354:
		t.FailNow("DATA after %s got %s: the transaction survived %s", reset, s.describe(r), reset)
	case r.Code/100 == 4:
		t.Precondition("DATA after %s answered %s, a temporary failure that tells nothing", reset, s.describe(r))
	case r.Code/100 != 5:
		t.FailNow("DATA after %s got %s, want a refusal (503)", reset, s.describe(r))
	}
}

// rsetThenNewTransaction judges RSET without a recipient to hand: after
// RSET a new MAIL begins a transaction; had the old one survived, MAIL
// would be nested and refused with 503 (RFC 5321 §4.1.4).
func rsetThenNewTransaction(ctx context.Context, t *engine.T) error {
	s := openTransaction(ctx, t)
	s.setup("RSET", 250)
	s.expect("MAIL FROM:<"+t.Options.From+">", "after RSET a new transaction begins (a nested MAIL gets 503)", 250)
	s.send("RSET")
	return nil
}

// anyRecipient is a recipient for a command whose address is not what is
// judged: --rcpt when given, else the postmaster.
func anyRecipient(t *engine.T) string {
	if t.Options.Rcpt != "" {
		return t.Options.Rcpt
	}
	return "postmaster"
}
