package pop3suite

import (
	"context"
	"errors"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// The syntax checks own malformed responses: a check that needs a
// capability or a response code and finds it malformed skips, naming the
// fault, and only these fail for it.
var syntaxChecks = []*engine.Check{
	{
		ID: "pop3.capa.syntax", Title: "CAPA lines follow RFC 2449's grammar and the registered tags' argument syntax", Spec: "RFC 2449 §6, §9", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			t.Require(err)
			judgeCapa(t, s.capaOrSkip(), "before login")
			// The listing may differ in TRANSACTION (RFC 2449 §5); without a
			// login the first one is judged alone.
			if after, err := tryLogin(ctx, t); err == nil {
				if caps, ok := after.capa(); ok {
					judgeCapa(t, caps, "after login")
				}
			}
			return nil
		},
	},
	{
		ID: "pop3.resp-codes.syntax", Title: "With RESP-CODES, response codes stand right after the status and follow RFC 2449's grammar", Spec: "RFC 2449 §6.4, §8, §9", Level: engine.Must,
		Run: respCodesSyntax,
	},
}

// judgeCapa fails the check on the first malformed line of a listing, and
// notes tags that are neither registered nor experimental.
func judgeCapa(t *engine.T, caps capaListing, when string) {
	if len(caps.malformed) > 0 {
		t.FailNow("CAPA %s: %v", when, caps.malformed[0])
	}
	if len(caps.unknown) > 0 {
		t.Note("CAPA %s lists tags that are neither registered nor experimental (X…): %s", when, strings.Join(caps.unknown, ", "))
	}
}

// respCodesSyntax provokes the replies that carry response codes — a
// wrong password ([AUTH], RFC 3206) and a maildrop in use ([IN-USE], RFC
// 2449 §8.1.2) — and reads every status line of the exchange against the
// grammar.
func respCodesSyntax(ctx context.Context, t *engine.T) error {
	s, err := dial(ctx, t)
	t.Require(err)
	caps := s.capaOrSkip()
	if !caps.has("RESP-CODES") && !caps.has("AUTH-RESP-CODE") {
		need(t, caps, "RESP-CODES")
	}
	replies := []string{s.greeting}
	failed := wrongPassword(ctx, t)
	replies = append(replies, failed.failed.line)
	failed.c.Close() // a session logged in after all would hold the lock
	if !failed.failed.ok {
		replies = append(replies, inUseReply(ctx, t)...)
	}
	codes := 0
	for _, line := range replies {
		r, err := parseReply(line)
		if err != nil {
			continue // pop3.status.case judges the status indicator
		}
		if err := r.codeProblem(); err != nil {
			t.FailNow("%v", err)
		}
		if r.code != nil {
			codes++
		}
	}
	if codes == 0 {
		t.SkipNow("no reply carried a response code to judge")
	}
	return nil
}

// inUseReply is the reply to a login while another session holds the
// maildrop; none when no login is possible now (the login's reply is
// judged with the rest only when it is the lock's refusal).
func inUseReply(ctx context.Context, t *engine.T) []string {
	first, err := tryLogin(ctx, t)
	var unmet *engine.PreconditionError
	if errors.As(err, &unmet) {
		t.Note("no second login to judge: %v", err)
		return nil
	}
	t.Require(err)
	defer first.cmd("QUIT")
	second, err := dial(ctx, t)
	t.Require(err)
	defer second.c.Close()
	second.setup("USER " + t.Target.User)
	return []string{second.do("PASS " + t.Target.Password).line}
}
