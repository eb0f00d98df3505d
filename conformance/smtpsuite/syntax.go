package smtpsuite

import (
	"context"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// syntaxChecks judge the form of replies. Every reply the suite reads is
// read against the reply grammar (see read and flawIn); this check drives
// a standard session so that replies of every class are judged even when
// no other check fails on one, and quotes the line and the rule.
var syntaxChecks = []*engine.Check{
	{
		ID: "smtp.reply.syntax", Title: "Every reply follows the reply grammar (code, separator, text, CRLF; enhanced codes)", Spec: "RFC 5321 §4.2, §4.2.1; RFC 3463 §2", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			c, err := t.Dial(ctx)
			t.Require(err)
			s := newSession(t, c, nil)
			greeting, err := s.read()
			t.Require(err)
			s.judgeForm("the greeting", greeting)
			if greeting.Code != 220 {
				t.Precondition("the greeting is %s: the server refuses service", s.describe(greeting))
			}
			t.Require(s.ehlo())
			for _, flaw := range s.flaws { // the EHLO reply's, if any
				t.FailNow("the reply to EHLO is malformed: %s", flaw)
			}
			for _, line := range []string{
				"NOOP", "MAIL FROM:<" + t.Options.From + ">", "RCPT TO:<" + anyRecipient(t) + ">",
				"RSET", "VRFY postmaster", "XYZZY", "RCPT TO:<" + anyRecipient(t) + ">",
				// Refusals carry the longest texts: a syntax error too.
				"MAIL FROM: <" + t.Options.From + ">", "RSET", "QUIT",
			} {
				s.judgeForm(line, s.send(line))
			}
			return nil
		},
	},
}

// judgeForm fails the check when r broke the reply grammar.
func (s *session) judgeForm(what string, r *smtpreply.Reply) {
	if flaw := s.flaws[r]; flaw != nil {
		s.t.FailNow("the reply to %s is malformed: %s", what, flaw)
	}
}
