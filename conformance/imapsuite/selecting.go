package imapsuite

import (
	"context"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// withMailbox logs in, creates a scratch mailbox holding n test messages,
// runs fn and deletes the mailbox. Without credentials the check skips.
func withMailbox(ctx context.Context, t *engine.T, n int, fn func(s *session, name string, msgs [][]byte) error) error {
	s, err := login(ctx, t)
	if s == nil || err != nil {
		return err
	}
	name, msgs, err := s.fill(n)
	if name != "" {
		defer drop(ctx, t, s, name)
	}
	if err != nil {
		return err
	}
	return fn(s, name, msgs)
}

var selectChecks = []*engine.Check{
	{
		ID: "imap.select.responses", Title: "SELECT sends FLAGS, EXISTS, UIDVALIDITY, UIDNEXT and PERMANENTFLAGS", Spec: "RFC 9051 §6.3.2; RFC 3501 §6.3.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 1, func(s *session, name string, _ [][]byte) error {
				sel, err := s.open(name, false)
				requireSubject(t, err)
				var missing []string
				if !sel.hasFlags {
					missing = append(missing, "FLAGS")
				}
				if sel.exists < 0 {
					missing = append(missing, "EXISTS")
				}
				if sel.uidValidity == 0 {
					missing = append(missing, "OK [UIDVALIDITY n]")
				}
				if sel.uidNext == 0 {
					missing = append(missing, "OK [UIDNEXT n]")
				}
				if !sel.hasPermanent {
					missing = append(missing, "OK [PERMANENTFLAGS (…)]")
				}
				if len(missing) > 0 {
					t.Fail("SELECT of a mailbox with one message did not send %s%s", strings.Join(missing, ", "), sel.res.malformedNote())
				} else if sel.exists != 1 {
					t.Fail("SELECT reported %d EXISTS for a mailbox holding 1 message", sel.exists)
				}
				return nil
			})
		},
	},
	{
		ID: "imap.select.read-write", Title: "SELECT of a writable mailbox completes with [READ-WRITE]", Spec: "RFC 9051 §6.3.2", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 0, func(s *session, name string, _ [][]byte) error {
				sel, err := s.open(name, false)
				requireSubject(t, err)
				if !sel.res.Done.CodeIs("READ-WRITE") {
					t.Fail("SELECT of a mailbox the user just created completed with %s, without [READ-WRITE]", sel.res.Done)
				}
				return nil
			})
		},
	},
	{
		ID: "imap.examine.read-only", Title: "EXAMINE completes with [READ-ONLY]", Spec: "RFC 9051 §6.3.3", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 0, func(s *session, name string, _ [][]byte) error {
				sel, err := s.open(name, true)
				requireSubject(t, err)
				if !sel.res.Done.CodeIs("READ-ONLY") {
					t.Fail("EXAMINE completed with %s; its tagged OK must begin with [READ-ONLY]", sel.res.Done)
				}
				return nil
			})
		},
	},
	{
		ID: "imap.examine.no-seen", Title: "FETCH BODY[] after EXAMINE leaves \\Seen unset", Spec: "RFC 9051 §6.3.3, §6.4.5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 1, func(s *session, name string, _ [][]byte) error {
				if _, err := s.open(name, true); err != nil {
					return err
				}
				f, _, err := s.fetchOne("FETCH 1 (BODY[])")
				if err != nil {
					return err
				}
				if f != nil && hasFlag(f.flags, `\Seen`) {
					t.Fail("FETCH BODY[] in a mailbox opened with EXAMINE reported \\Seen set")
					return nil
				}
				// Look again read-write: the flag must not be set behind
				// the response either.
				if _, err := s.open(name, false); err != nil {
					return err
				}
				f, _, err = s.fetchOne("FETCH 1 (FLAGS)")
				if err != nil {
					return err
				}
				if f == nil || !f.hasFlags {
					t.Precondition("FETCH 1 (FLAGS) returned no flags")
				}
				if hasFlag(f.flags, `\Seen`) {
					t.Fail("after FETCH BODY[] under EXAMINE the message has \\Seen: EXAMINE must change nothing")
				}
				return nil
			})
		},
	},
	{
		ID: "imap.select.failed-deselects", Title: "A failed SELECT leaves no mailbox selected", Spec: "RFC 9051 §6.3.2; RFC 3501 §6.3.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 1, func(s *session, name string, _ [][]byte) error {
				if _, err := s.open(name, false); err != nil {
					return err
				}
				absent := s.absentName()
				r, err := s.cmd("SELECT " + absent)
				if err != nil {
					return err
				}
				if r.OK() {
					t.Skip("SELECT of a mailbox that does not exist (%s) succeeded", absent)
					return nil
				}
				r, err = s.cmd("FETCH 1 (FLAGS)")
				if err != nil {
					return err
				}
				if r.OK() {
					t.Fail("after a failed SELECT, FETCH still worked on the mailbox selected before (%d FETCH responses): no mailbox may be selected", len(r.Of("FETCH")))
				}
				return nil
			})
		},
	},
	{
		ID: "imap.mailbox.inbox-case-insensitive", Title: "INBOX is case-insensitive", Spec: "RFC 9051 §5.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			// EXAMINE changes nothing in the user's INBOX.
			r, err := s.cmd("EXAMINE iNbOx")
			if err != nil {
				return err
			}
			if !r.OK() {
				t.Fail("EXAMINE iNbOx answered %s: INBOX is a case-insensitive name", r.Done)
			}
			return nil
		},
	},
}
