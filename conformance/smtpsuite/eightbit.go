package smtpsuite

import (
	"context"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/readback"
)

// eightBitBody holds octets above 127 (Latin-1 and UTF-8 both).
const eightBitBody = "caf\xe9 na\xc3\xafve \x80\xff\r\n"

var eightBitChecks = []*engine.Check{
	{
		ID: "smtp.8bit.without-8bitmime", Title: "8-bit octets sent without BODY=8BITMIME are refused or kept, never silently altered", Spec: "RFC 5321 §2.4, RFC 6152 §3", Level: engine.Should, ReadsBack: true,
		Run: func(ctx context.Context, t *engine.T) error {
			if !needRcpt(t) {
				return nil
			}
			sent, n, r, err := sendTestMessage(ctx, t, "8bit-without-8bitmime", "", "", eightBitBody)
			if r == nil || err != nil {
				return err
			}
			switch {
			case r.Code/100 == 5:
				t.Pass("refused: %s", r)
				return nil
			case r.Code != 250:
				t.Fail("end of data got %s", r)
				return nil
			case t.Options.Readback == nil:
				t.Skip("accepted; judging whether the octets were kept needs a read-back mailbox (--readback)")
				return nil
			}
			readBackTrusted(ctx, t)
			got, err := readback.Wait(ctx, t, *t.Options.Readback, n)
			if err != nil || got == nil {
				return err
			}
			if d := readback.Compare([]byte(sent), got); d != "" {
				t.Fail("accepted, then altered the message (a message must be refused, not silently changed): %s", d)
			}
			return nil
		},
	},
	{
		ID: "smtp.8bitmime.preserved", Title: "With BODY=8BITMIME, 8-bit octets arrive unaltered (read back)", Spec: "RFC 6152 §3", Level: engine.Must, ReadsBack: true,
		Run: func(ctx context.Context, t *engine.T) error {
			probe, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			if !probe.has("8BITMIME") {
				t.Skip("8BITMIME not advertised")
				return nil
			}
			got, sent, err := sendAndReadBack(ctx, t, "8bitmime", " BODY=8BITMIME", eightBitBody)
			if err != nil || got == nil {
				return err
			}
			if d := readback.Compare([]byte(sent), got); d != "" {
				t.Fail("8-bit octets altered in transit: %s", d)
			}
			return nil
		},
	},
	{
		ID: "smtp.command.8bit", Title: "8-bit octets in a command are refused (without SMTPUTF8)", Spec: "RFC 5321 §2.4", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			if s.has("SMTPUTF8") {
				t.Skip("SMTPUTF8 advertised: non-ASCII addresses are allowed with it")
				return nil
			}
			r, err := s.cmd("MAIL FROM:<j\xf6rg@example.com>")
			if err != nil {
				return err
			}
			if r.Code/100 != 5 {
				t.Fail("MAIL with an 8-bit address got %s; receiving systems should reject commands that are not US-ASCII", r)
			}
			return nil
		},
	},
}
