package smtpsuite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

var greetingChecks = []*engine.Check{
	{
		ID: "smtp.greeting.code", Title: "The greeting is a 220 reply", Spec: "RFC 5321 §3.1, §4.2", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			c, err := t.Dial(ctx)
			if err != nil {
				return err
			}
			g, err := c.ReadSMTPReply()
			if err != nil {
				return err
			}
			switch {
			case g.Code == 220:
			case g.Code == 421:
				// §3.8: 421 "Service not available": busy for now; the
				// runner tries the check again later.
				return engine.Busy("greeting %s", g)
			case g.Code == 554:
				// §3.1: 554 refuses service; legitimate, but then there is
				// nothing to check.
				return fmt.Errorf("the server refuses service: %s", g)
			default:
				t.Fail("greeting %s; a server greets with 220 (or refuses with 554)", g)
			}
			return nil
		},
	},
	{
		ID: "smtp.greeting.domain", Title: "The greeting names the server's domain first", Spec: "RFC 5321 §4.2 (Greeting)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			if err != nil {
				return err
			}
			first, _, _ := strings.Cut(s.greeting.Lines[0], " ")
			if !smtpaddr.IsDomain(first) && !smtpaddr.IsAddressLiteral(first) {
				t.Fail("greeting text %q does not start with a domain or address literal", s.greeting.Lines[0])
			}
			return nil
		},
	},
	{
		ID: "smtp.reply.multiline", Title: "Multi-line replies use code-hyphen continuation lines and one code", Spec: "RFC 5321 §4.2.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			if err != nil {
				return err
			}
			// The EHLO reply is multi-line on any server with an extension;
			// if its lines are not chained with "250-", the rest of it is
			// read as the reply to the next command.
			if err := s.c.Send("EHLO " + t.Options.ClientName); err != nil {
				return err
			}
			r, err := s.read()
			if errors.Is(err, smtpreply.ErrMalformedReply) {
				t.FailNow("EHLO reply is not a well-formed reply: %v", err)
			}
			t.Require(err)
			if r.Code != 250 {
				t.Skip("EHLO not accepted (%s)", r)
				return nil
			}
			// Nothing may follow a reply's last line ("250 ") until the next
			// command: more lines mean the continuation marks were wrong.
			extra, err := s.c.Quiet(300 * time.Millisecond)
			if err != nil {
				return err
			}
			if len(extra) > 0 {
				t.Fail("more reply lines arrived after a line marked last (\"%d \"): continuation lines must be \"%d-\"", r.Code, r.Code)
				return nil
			}
			if len(r.Lines) == 1 {
				t.Skip("EHLO reply has one line: no multi-line reply to judge")
			}
			return nil
		},
	},
	{
		ID: "smtp.ehlo.accepted", Title: "EHLO with a domain gets 250", Spec: "RFC 5321 §4.1.1.1, §4.5.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			t.Require(err)
			s.expect("EHLO "+t.Options.ClientName, "EHLO is required of every server", 250)
			return nil
		},
	},
	{
		ID: "smtp.helo.accepted", Title: "HELO with a domain gets 250", Spec: "RFC 5321 §4.1.1.1, §4.5.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			t.Require(err)
			s.expect("HELO "+t.Options.ClientName, "HELO is required of every server", 250)
			return nil
		},
	},
	{
		ID: "smtp.command.case-insensitive", Title: "Command verbs and keywords are case-insensitive", Spec: "RFC 5321 §2.4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			if err != nil {
				return err
			}
			s.sameInAnyCase("eHlO "+t.Options.ClientName, "EHLO "+t.Options.ClientName)
			s.sameInAnyCase("mail from:<"+t.Options.From+">", "MAIL FROM:<"+t.Options.From+">")
			s.sameInAnyCase("rset", "RSET")
			return nil
		},
	},
}

// sameInAnyCase sends a command in mixed or lower case; if it is not
// accepted, the upper-case form is tried: a refusal counts only when the
// upper-case command is accepted (whether that one works is another
// check's business).
func (s *session) sameInAnyCase(mixed, upper string) {
	r := s.send(mixed)
	if r.Code/100 == 2 {
		return
	}
	if u := s.send(upper); u.Code/100 == 2 {
		s.t.FailNow("%q got %s but %q got %s: verbs and keywords are not case sensitive", mixed, s.describe(r), upper, s.describe(u))
	}
	s.t.Precondition("%q is refused in upper case too (%s)", upper, s.describe(r))
}
