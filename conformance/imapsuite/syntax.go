package imapsuite

import (
	"context"
	"errors"
	"fmt"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/seed"
)

// violation is a response that breaks the grammar: the line as read and
// the rule, with what breaks it.
type violation struct{ line, rule string }

func (v violation) String() string { return fmt.Sprintf("%q breaks %s", v.line, v.rule) }

// maxViolations bounds what a session keeps: the first few say it all.
const maxViolations = 20

// noteGrammar reads every response a session gets against the grammar
// (grammar.go) and keeps the malformed ones, for imap.syntax.responses.
func (s *session) noteGrammar(r *response) {
	if len(s.malformed) >= maxViolations {
		return
	}
	if rule := malformation(r.Tag, r.Text, r.Lits); rule != "" {
		s.malformed = append(s.malformed, violation{line: r.String(), rule: rule})
	}
}

// malformed returns the responses to a command that break the grammar.
func (r *result) malformed() []violation {
	if r == nil {
		return nil
	}
	var out []violation
	for _, u := range append(r.Untagged[:len(r.Untagged):len(r.Untagged)], r.Done) {
		if u == nil {
			continue
		}
		if rule := malformation(u.Tag, u.Text, u.Lits); rule != "" {
			out = append(out, violation{line: u.String(), rule: rule})
		}
	}
	return out
}

// malformedNote says, for a verdict that something is missing, that what
// came instead was malformed: "" when every response was well formed.
func (r *result) malformedNote() string {
	if v := r.malformed(); len(v) > 0 {
		return fmt.Sprintf(" (malformed response: %s)", v[0])
	}
	return ""
}

var syntaxChecks = []*engine.Check{
	{
		ID: "imap.syntax.responses", Title: "Every response follows the formal syntax", Spec: "RFC 9051 §9, §7; RFC 3501 §9", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s := conversation(ctx, t)
			if len(s.malformed) > 0 {
				t.FailNow("%d malformed responses; the first: %s", len(s.malformed), s.malformed[0])
			}
			return nil
		},
	},
}

// conversation runs the commands whose responses the suite reads (the
// greeting, CAPABILITY, NAMESPACE, LIST, CREATE, APPEND, APPEND to a
// missing mailbox, STATUS, SELECT, FETCH, STORE, SEARCH, NOOP, EXPUNGE,
// CLOSE, DELETE, LOGOUT), each response read against the grammar. The
// answers themselves are the other checks' subjects: a refusal is only
// one more response to read.
func conversation(ctx context.Context, t *engine.T) *session {
	s, err := dial(ctx, t)
	t.Require(err)
	_, err = s.cmd("CAPABILITY")
	t.Require(err)
	if t.Target.User == "" {
		_, err = s.cmd("NOOP")
		t.Require(err)
		s.logout()
		return s
	}
	if !s.authed {
		t.Require(s.authenticate())
	}
	s.personal()
	name, err := s.scratch()
	dropped := false
	var unmet *engine.PreconditionError
	if errors.As(err, &unmet) {
		t.Note("%v: the conversation goes on without it", err)
	} else {
		t.Require(err)
		defer func() {
			if !dropped {
				drop(ctx, t, s, name)
			}
		}()
		_, err = s.appendMsg(name, "", seed.Message(t, seed.Nonce(), "mailcheck syntax", "Read against the grammar.\r\n"))
		t.Require(err)
	}
	absent := s.absentName()
	r, err := s.appendMsg(absent, "", seed.Message(t, seed.Nonce(), "mailcheck syntax", "Never stored.\r\n"))
	t.Require(err)
	if r.OK() {
		drop(ctx, t, s, absent) // imap.append.missing-mailbox judges that
	}
	if name == "" {
		name = "INBOX"
	}
	for _, line := range []string{
		`LIST "" ` + name,
		"STATUS " + name + " (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)",
		"EXAMINE " + name,
		"FETCH 1 (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[])",
		"SEARCH ALL",
		"UID SEARCH ALL",
		"NOOP",
		"CLOSE",
	} {
		_, err := s.cmd(line)
		t.Require(err)
	}
	if name != "INBOX" {
		// The mailbox is the check's own: changing it harms nothing.
		for _, line := range []string{"SELECT " + name, `STORE 1 +FLAGS (\Flagged)`, `STORE 1 +FLAGS.SILENT (\Deleted)`, "EXPUNGE", "CLOSE"} {
			_, err := s.cmd(line)
			t.Require(err)
		}
	}
	if name != "INBOX" {
		drop(ctx, t, s, name)
		dropped = true
	}
	s.logout()
	return s
}
