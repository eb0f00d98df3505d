package imapsuite

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// flagsOf fetches the flags of message seq.
func (s *session) flagsOf(seq int) ([]string, error) {
	f, _, err := s.fetchOne(fmt.Sprintf("FETCH %d (FLAGS)", seq))
	if err != nil {
		return nil, err
	}
	if f == nil || !f.hasFlags {
		return nil, engine.Unmet("FETCH %d (FLAGS) returned no flags", seq)
	}
	return f.flags, nil
}

// markDeleted stores \Deleted on message seq silently and makes sure it
// is there: an EXPUNGE or CLOSE after it removes something only then.
func (s *session) markDeleted(seq int) {
	_, err := s.must(fmt.Sprintf(`STORE %d +FLAGS.SILENT (\Deleted)`, seq))
	s.t.Require(err)
	flags, err := s.flagsOf(seq)
	s.t.Require(err)
	if !hasFlag(flags, `\Deleted`) {
		s.t.Precondition("STORE +FLAGS.SILENT (\\Deleted) left message %d with flags (%s)", seq, strings.Join(flags, " "))
	}
}

// unseenFirst ends the check (precondition) when the appended message
// already has \Seen.
func (s *session) unseenFirst() {
	flags, err := s.flagsOf(1)
	s.t.Require(err)
	if hasFlag(flags, `\Seen`) {
		s.t.Precondition("a message appended without flags has \\Seen already (%s)", strings.Join(flags, " "))
	}
}

var flagChecks = []*engine.Check{
	{
		ID: "imap.flags.persist", Title: "Flags stored in one session are there in the next", Spec: "RFC 9051 §2.3.2", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 1, func(s *session, name string, _ [][]byte) error {
				sel, err := s.open(name, false)
				if err != nil {
					return err
				}
				if !sel.permanent(`\Flagged`) {
					t.Skip("\\Flagged is not among the PERMANENTFLAGS (%s)", strings.Join(sel.permanentFlags, " "))
					return nil
				}
				if _, err := s.must(`STORE 1 +FLAGS.SILENT (\Flagged)`); err != nil {
					return err
				}
				if _, err := s.must("CLOSE"); err != nil {
					return err
				}
				s2, err := login(ctx, t)
				if err != nil {
					return err
				}
				defer s2.logout()
				if _, err := s2.open(name, true); err != nil {
					return err
				}
				flags, err := s2.flagsOf(1)
				if err != nil {
					return err
				}
				if !hasFlag(flags, `\Flagged`) {
					t.Fail("\\Flagged, a permanent flag stored in the previous session, is gone (flags now: %s)", strings.Join(flags, " "))
				}
				return nil
			})
		},
	},
	{
		ID: "imap.store.fetch-response", Title: "STORE answers with the new flags in an untagged FETCH", Spec: "RFC 9051 §6.4.6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 1, func(s *session, name string, _ [][]byte) error {
				_, err := s.open(name, false)
				t.Require(err)
				r, err := s.must(`STORE 1 +FLAGS (\Flagged)`)
				requireSubject(t, err)
				fs, err := fetches(r)
				requireSubject(t, err)
				for _, f := range fs {
					if f.seq == 1 && f.hasFlags {
						if !hasFlag(f.flags, `\Flagged`) {
							t.Fail("STORE +FLAGS (\\Flagged) answered FLAGS (%s), without \\Flagged", strings.Join(f.flags, " "))
						}
						return nil
					}
				}
				t.Fail("STORE without .SILENT sent no untagged FETCH with the new flags%s", r.malformedNote())
				return nil
			})
		},
	},
	{
		ID: "imap.store.silent", Title: "STORE with .SILENT sends no FETCH of the new flags", Spec: "RFC 9051 §6.4.6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 1, func(s *session, name string, _ [][]byte) error {
				if _, err := s.open(name, false); err != nil {
					return err
				}
				// The mailbox is the check's own: no other session changes
				// flags, so any FETCH here answers the STORE itself.
				r, err := s.must(`STORE 1 +FLAGS.SILENT (\Flagged)`)
				requireSubject(t, err)
				if n := len(r.Of("FETCH")); n > 0 {
					t.Fail("STORE +FLAGS.SILENT sent %d FETCH responses; .SILENT returns no new value", n)
					return nil
				}
				flags, err := s.flagsOf(1)
				t.Require(err)
				if hasFlag(flags, `\Flagged`) {
					return nil
				}
				// Silent and not stored: is it the silence, or does STORE
				// store nothing at all (imap.flags.persist's subject)?
				_, err = s.must(`STORE 1 +FLAGS (\Answered)`)
				t.Require(err)
				loud, err := s.flagsOf(1)
				t.Require(err)
				if !hasFlag(loud, `\Answered`) {
					t.Precondition("STORE stores no flags at all (\\Answered left flags %s), silent or not", strings.Join(loud, " "))
				}
				t.Fail("STORE +FLAGS.SILENT (\\Flagged) did not set the flag (flags: %s), where STORE +FLAGS did", strings.Join(flags, " "))
				return nil
			})
		},
	},
	{
		ID: "imap.fetch.body-sets-seen", Title: "FETCH BODY[] sets \\Seen", Spec: "RFC 9051 §6.4.5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return seenAfterFetch(ctx, t, "BODY[]", true)
		},
	},
	{
		ID: "imap.fetch.peek-no-seen", Title: "FETCH BODY.PEEK[] leaves \\Seen unset", Spec: "RFC 9051 §6.4.5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return seenAfterFetch(ctx, t, "BODY.PEEK[]", false)
		},
	},
	{
		ID: "imap.fetch.size-matches", Title: "RFC822.SIZE equals the length of BODY[]", Spec: "RFC 9051 §2.3.4, §6.4.5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 1, func(s *session, name string, msgs [][]byte) error {
				if _, err := s.open(name, true); err != nil {
					return err
				}
				f, _, err := s.fetchOne("FETCH 1 (RFC822.SIZE BODY.PEEK[])")
				requireSubject(t, err)
				switch {
				case f == nil || f.size < 0 || !f.hasBody:
					t.Fail("FETCH 1 (RFC822.SIZE BODY.PEEK[]) did not return both items")
				case f.size != int64(len(f.body)):
					t.Fail("RFC822.SIZE is %d but BODY[] is %d octets (%d were appended)", f.size, len(f.body), len(msgs[0]))
				}
				return nil
			})
		},
	},
	{
		ID: "imap.close.expunges-silently", Title: "CLOSE removes \\Deleted messages without sending EXPUNGE", Spec: "RFC 9051 §6.4.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 2, func(s *session, name string, _ [][]byte) error {
				if _, err := s.open(name, false); err != nil {
					return err
				}
				s.markDeleted(1)
				r, err := s.must("CLOSE")
				requireSubject(t, err)
				if n := len(r.Of("EXPUNGE")); n > 0 {
					t.FailNow("CLOSE sent %d untagged EXPUNGE responses; it removes messages silently", n)
				}
				// A fresh EXAMINE counts what is left: STATUS is
				// imap.status.messages' subject, not this check's.
				sel, err := s.open(name, true)
				t.Require(err)
				switch {
				case sel.exists < 0:
					t.Precondition("EXAMINE %s sent no EXISTS (imap.select.responses judges that)", name)
				case sel.exists != 1:
					t.Fail("after CLOSE the mailbox should hold 1 of its 2 messages (the other was \\Deleted): EXAMINE says %d EXISTS", sel.exists)
				}
				return nil
			})
		},
	},
}

// seenAfterFetch fetches item from an unseen message of the check's own
// mailbox and fails the check unless \Seen is then set exactly when
// wantSeen (RFC 9051 §6.4.5: BODY[] sets it, BODY.PEEK[] does not).
func seenAfterFetch(ctx context.Context, t *engine.T, item string, wantSeen bool) error {
	return withMailbox(ctx, t, 1, func(s *session, name string, _ [][]byte) error {
		if _, err := s.open(name, false); err != nil {
			return err
		}
		s.unseenFirst()
		_, err := s.must("FETCH 1 (" + item + ")")
		requireSubject(t, err)
		flags, err := s.flagsOf(1)
		if err != nil {
			return err
		}
		if seen := hasFlag(flags, `\Seen`); seen != wantSeen {
			t.Fail("after FETCH %s the message has \\Seen=%v, want %v (flags: %s)", item, seen, wantSeen, strings.Join(flags, " "))
		}
		return nil
	})
}
