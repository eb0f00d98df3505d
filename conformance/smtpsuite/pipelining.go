package smtpsuite

import (
	"context"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/internal/smtpwire"
)

// pipelined sends lines in one write and reads one reply per line.
func (s *session) pipelined(lines ...string) ([]*smtpwire.Reply, error) {
	if err := s.c.Write([]byte(strings.Join(lines, "\r\n") + "\r\n")); err != nil {
		return nil, err
	}
	var replies []*smtpwire.Reply
	for range lines {
		r, err := s.c.ReadSMTPReply()
		if err != nil {
			return replies, err
		}
		replies = append(replies, r)
	}
	return replies, nil
}

func codesOf(replies []*smtpwire.Reply) []int {
	var out []int
	for _, r := range replies {
		out = append(out, r.Code)
	}
	return out
}

var pipeliningChecks = []*engine.Check{
	{
		ID: "smtp.pipelining.order", Title: "A pipelined MAIL/RCPT/RCPT/DATA burst gets every reply, in order", Spec: "RFC 2920 §3.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			if !needRcpt(t) {
				return nil
			}
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			if !s.has("PIPELINING") {
				t.Skip("PIPELINING not advertised")
				return nil
			}
			replies, err := s.pipelined("MAIL FROM:<"+t.Options.From+">", "RCPT TO:<"+t.Options.Rcpt+">", "RCPT TO:<postmaster>", "DATA")
			if err != nil {
				t.Fail("%d of 4 replies to a pipelined group arrived (%v): input was lost", len(replies), err)
				return nil
			}
			codes := codesOf(replies)
			if codes[0] != 250 || codes[1] != 250 && codes[1] != 251 || codes[2] != 250 && codes[2] != 251 || codes[3] != 354 {
				t.Fail("replies %v, want 250 250 250 354 in command order", codes)
				return nil
			}
			msg := testMessage(t, "pipelining", nonce(), "pipelined\r\n")
			if err := s.c.Write(smtpwire.AppendDotStuffed(nil, []byte(msg))); err != nil {
				return err
			}
			r, err := s.c.ReadSMTPReply()
			if err != nil {
				return err
			}
			if r.Code != 250 {
				t.Fail("the pipelined message got %s", r)
			}
			return nil
		},
	},
	{
		ID: "smtp.pipelining.after-reject", Title: "Commands pipelined after a rejected one are still executed", Spec: "RFC 2920 §3.1, §3.2", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			if !s.has("PIPELINING") {
				t.Skip("PIPELINING not advertised")
				return nil
			}
			// RCPT TO:<> is a syntax error everywhere; what follows it must
			// not be thrown away with it.
			replies, err := s.pipelined("MAIL FROM:<"+t.Options.From+">", "RCPT TO:<>", "RCPT TO:<postmaster>", "RSET", "NOOP")
			if err != nil {
				t.Fail("%d of 5 replies arrived (%v): input after the rejected command was discarded", len(replies), err)
				return nil
			}
			codes := codesOf(replies)
			if codes[0] != 250 || codes[1]/100 != 5 || codes[2] != 250 && codes[2] != 251 || codes[3] != 250 || codes[4] != 250 {
				t.Fail("replies %v, want 250 5xx 250 250 250", codes)
			}
			return nil
		},
	},
}
