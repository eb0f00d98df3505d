// Package e2esuite follows one message across protocols: sent over SMTP,
// read back over POP3 and over IMAP, it must arrive intact: the body byte
// for byte, and every header field sent unchanged and in order, wherever
// the servers add fields of their own (trace fields at the top, RFC 5321
// §4.4, or others at the end of the header block). The time from the SMTP
// 250 to the message being visible in the mailbox is measured and
// reported. These checks judge the POP3 or IMAP server as the mailbox that
// returns the mail, so they do not skip when the read-back alters it.
package e2esuite

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/readback"
	"github.com/mailcheck/mailcheck/conformance/seed"
)

// body holds what transparency and line-length handling can break: the
// dot lines, a 998-octet line (1000 with CRLF, RFC 5321 §4.5.3.1.6), and,
// when the seed server offers 8BITMIME, 8-bit octets.
func body(eightBit bool) string {
	b := ".\r\n..\r\n.x\r\n" + strings.Repeat("l", 998) + "\r\n"
	if eightBit {
		b += "caf\xc3\xa9 \x80\xff\r\n"
	}
	return b + "end\r\n"
}

var catalogue = []*engine.Check{
	{
		ID: "e2e.pop3.byte-identical", Protocol: "pop3", Title: "A message sent over SMTP reads back byte-identical over POP3", Spec: "RFC 5321 §4.5.2, §4.4; RFC 1939 §3", Level: engine.Must, ReadsBack: true,
		Run: roundTrip,
	},
	{
		ID: "e2e.imap.byte-identical", Protocol: "imap", Title: "A message sent over SMTP reads back byte-identical over IMAP", Spec: "RFC 5321 §4.5.2, §4.4; RFC 9051 §6.4.5", Level: engine.Must, ReadsBack: true,
		Run: roundTrip,
	},
}

// Checks returns the checks for a POP3 or IMAP target that has an SMTP
// seed server.
func Checks(protocol string) []*engine.Check {
	var out []*engine.Check
	for _, c := range catalogue {
		if c.Protocol == protocol {
			out = append(out, c)
		}
	}
	return out
}

// All returns every cross-protocol check (for the catalogue).
func All() []*engine.Check { return catalogue }

// roundTrip sends the message over SMTP (with 8-bit octets when the seed
// server offers 8BITMIME) and reads it back from the target's mailbox.
func roundTrip(ctx context.Context, t *engine.T) error {
	if t.Options.Seed == nil || t.Options.Rcpt == "" {
		t.Skip("needs an SMTP server delivering to this mailbox: --seed smtp://… (or an smtp:// target) and --rcpt")
		return nil
	}
	if t.Target.User == "" {
		t.Skip("needs a login in the target URL (user:password@)")
		return nil
	}
	n := seed.Nonce()
	sent := seed.Message(t, n, "mailcheck end-to-end", body(true))
	err := seed.Send(ctx, t, sent)
	if errors.Is(err, seed.ErrNo8BitMIME) {
		t.Note("the seed server does not offer 8BITMIME: sending 7-bit")
		sent = seed.Message(t, n, "mailcheck end-to-end", body(false))
		err = seed.Send(ctx, t, sent)
	}
	if errors.Is(err, seed.ErrRefused) {
		// The SMTP server's refusal is the SMTP suite's to judge; here
		// it only leaves nothing to read back.
		return engine.Unmet("%v", err)
	}
	if err != nil {
		return err
	}
	accepted := time.Now()
	got, err := readback.Poll(ctx, t, t.Target, n)
	if err != nil {
		return err
	}
	if got == nil {
		t.Fail("the message did not appear in the mailbox within %v of the SMTP 250", t.Options.ReadbackTimeout)
		return nil
	}
	latency := time.Since(accepted)
	if d := readback.Compare(sent, got); d != "" {
		t.Fail("the message read back differs from the one sent: %s", d)
		return nil
	}
	t.Pass("delivered and read back %v after the SMTP 250", latency.Round(time.Millisecond))
	return nil
}
