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
		return nil, fmt.Errorf("FETCH %d (FLAGS) returned no flags", seq)
	}
	return f.flags, nil
}

// unseenFirst fails the check's precondition when the appended message
// already has \Seen.
func (s *session) unseenFirst() (bool, error) {
	flags, err := s.flagsOf(1)
	if err != nil {
		return false, err
	}
	if hasFlag(flags, `\Seen`) {
		s.t.Skip("a message appended without flags has \\Seen already (%s)", strings.Join(flags, " "))
		return false, nil
	}
	return true, nil
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
				if _, err := s.open(name, false); err != nil {
					return err
				}
				r, err := s.must(`STORE 1 +FLAGS (\Flagged)`)
				if err != nil {
					return err
				}
				fs, err := fetches(r)
				if err != nil {
					return err
				}
				for _, f := range fs {
					if f.seq == 1 && f.hasFlags {
						if !hasFlag(f.flags, `\Flagged`) {
							t.Fail("STORE +FLAGS (\\Flagged) answered FLAGS (%s), without \\Flagged", strings.Join(f.flags, " "))
						}
						return nil
					}
				}
				t.Fail("STORE without .SILENT sent no untagged FETCH with the new flags")
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
				if err != nil {
					return err
				}
				if n := len(r.Of("FETCH")); n > 0 {
					t.Fail("STORE +FLAGS.SILENT sent %d FETCH responses; .SILENT returns no new value", n)
					return nil
				}
				flags, err := s.flagsOf(1)
				if err != nil {
					return err
				}
				if !hasFlag(flags, `\Flagged`) {
					t.Fail("STORE +FLAGS.SILENT (\\Flagged) did not set the flag (flags: %s)", strings.Join(flags, " "))
				}
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
				if err != nil {
					return err
				}
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
				if _, err := s.must(`STORE 1 +FLAGS.SILENT (\Deleted)`); err != nil {
					return err
				}
				r, err := s.must("CLOSE")
				if err != nil {
					return err
				}
				if n := len(r.Of("EXPUNGE")); n > 0 {
					t.Fail("CLOSE sent %d untagged EXPUNGE responses; it removes messages silently", n)
					return nil
				}
				st, err := s.must("STATUS " + name + " (MESSAGES)")
				if err != nil {
					return err
				}
				if l := st.Of("STATUS"); len(l) == 0 || !strings.Contains(strings.ToUpper(l[0].Text), "MESSAGES 1)") {
					t.Fail("after CLOSE the mailbox should hold 1 of its 2 messages (the other was \\Deleted): STATUS says %s", l)
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
		if ok, err := s.unseenFirst(); !ok || err != nil {
			return err
		}
		if _, err := s.must("FETCH 1 (" + item + ")"); err != nil {
			return err
		}
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
