package imapsuite

import (
	"context"
	"fmt"
	"slices"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/seed"
)

// seqUIDs fetches the UID of every message of the selected mailbox, in
// sequence order, with FETCH 1:* (UID).
func (s *session) seqUIDs() ([]uint32, error) {
	r, err := s.cmd("FETCH 1:* (UID)")
	if err != nil {
		return nil, err
	}
	if !r.OK() {
		return nil, fmt.Errorf("FETCH 1:* (UID) answered %s", r.Done)
	}
	fs, err := fetches(r)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(fs, func(a, b *fetched) int { return int(a.seq) - int(b.seq) })
	out := make([]uint32, len(fs))
	for i, f := range fs {
		out[i] = f.uid
	}
	return out, nil
}

var uidChecks = []*engine.Check{
	{
		ID: "imap.uid.ascending", Title: "UIDs strictly ascend with the sequence numbers", Spec: "RFC 9051 §2.3.1.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 3, func(s *session, name string, _ [][]byte) error {
				if _, err := s.open(name, true); err != nil {
					return err
				}
				uids, err := s.seqUIDs()
				if err != nil {
					return err
				}
				if len(uids) != 3 {
					t.Fail("FETCH 1:* (UID) in a mailbox of 3 messages returned %d UIDs: %v", len(uids), uids)
					return nil
				}
				for i := 1; i < len(uids); i++ {
					if uids[i] <= uids[i-1] {
						t.Fail("UIDs in sequence order are %v: message %d has UID %d, not above %d", uids, i+1, uids[i], uids[i-1])
						return nil
					}
				}
				return nil
			})
		},
	},
	{
		ID: "imap.uid.below-uidnext", Title: "Every UID is below UIDNEXT, and a new message gets at least the UIDNEXT announced", Spec: "RFC 9051 §2.3.1.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 2, func(s *session, name string, _ [][]byte) error {
				sel, err := s.open(name, true)
				if err != nil {
					return err
				}
				uids, err := s.uids()
				if err != nil {
					return err
				}
				for _, u := range uids {
					if u >= sel.uidNext {
						t.Fail("UID %d is not below UIDNEXT %d", u, sel.uidNext)
						return nil
					}
				}
				if err := s.add(name, seed.Message(t, seed.Nonce(), "mailcheck UIDNEXT", "Third.\r\n")); err != nil {
					return err
				}
				if _, err := s.cmd("NOOP"); err != nil {
					return err
				}
				after, err := s.uids()
				if err != nil {
					return err
				}
				if len(after) != len(uids)+1 {
					t.Fail("after APPEND the mailbox shows UIDs %v (before: %v)", after, uids)
				} else if u := after[len(after)-1]; u < sel.uidNext {
					t.Fail("the appended message got UID %d, below the UIDNEXT %d announced before", u, sel.uidNext)
				}
				return nil
			})
		},
	},
	{
		ID: "imap.uidvalidity.stable", Title: "UIDVALIDITY and UIDs stay the same across sessions", Spec: "RFC 9051 §2.3.1.1", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 1, func(s *session, name string, _ [][]byte) error {
				first, err := s.open(name, true)
				if err != nil {
					return err
				}
				uids, err := s.uids()
				if err != nil {
					return err
				}
				s2, err := login(ctx, t)
				if err != nil {
					return err
				}
				defer s2.logout()
				second, err := s2.open(name, true)
				if err != nil {
					return err
				}
				uids2, err := s2.uids()
				if err != nil {
					return err
				}
				switch {
				case first.uidValidity != second.uidValidity:
					t.Fail("UIDVALIDITY changed between two sessions (%d, then %d) with no change to the mailbox: UIDs should persist across sessions", first.uidValidity, second.uidValidity)
				case !slices.Equal(uids, uids2):
					t.Fail("UIDs changed between sessions (%v, then %v) under the same UIDVALIDITY %d", uids, uids2, first.uidValidity)
				}
				return nil
			})
		},
	},
	{
		ID: "imap.uidvalidity.recreate", Title: "A mailbox deleted and created again gets a new UIDVALIDITY or new UIDs", Spec: "RFC 9051 §2.3.1.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			name, _, err := s.fill(1)
			if name != "" {
				defer drop(ctx, t, s, name)
			}
			if err != nil {
				return err
			}
			before, err := s.open(name, true)
			if err != nil {
				return err
			}
			uids, err := s.uids()
			if err != nil || len(uids) != 1 {
				return fmt.Errorf("UIDs %v: %v", uids, err)
			}
			for _, cmd := range []string{"CLOSE", "DELETE " + name, "CREATE " + name} {
				if _, err := s.must(cmd); err != nil {
					return err
				}
			}
			if err := s.add(name, seed.Message(t, seed.Nonce(), "mailcheck re-created mailbox", "Again.\r\n")); err != nil {
				return err
			}
			after, err := s.open(name, true)
			if err != nil {
				return err
			}
			uids2, err := s.uids()
			if err != nil || len(uids2) != 1 {
				return fmt.Errorf("UIDs %v: %v", uids2, err)
			}
			if after.uidValidity == before.uidValidity && uids2[0] <= uids[0] {
				t.Fail("the re-created mailbox kept UIDVALIDITY %d and gave its new message UID %d (the old one had %d): a client would take it for the old message", after.uidValidity, uids2[0], uids[0])
			}
			return nil
		},
	},
	{
		ID: "imap.uid.fetch-includes-uid", Title: "FETCH responses to UID FETCH and UID STORE include UID", Spec: "RFC 9051 §6.4.9", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 1, func(s *session, name string, _ [][]byte) error {
				if _, err := s.open(name, false); err != nil {
					return err
				}
				uids, err := s.uids()
				if err != nil || len(uids) != 1 {
					return fmt.Errorf("UIDs %v: %v", uids, err)
				}
				for _, cmd := range []string{
					fmt.Sprintf("UID FETCH %d (FLAGS)", uids[0]),
					fmt.Sprintf(`UID STORE %d +FLAGS (\Flagged)`, uids[0]),
				} {
					f, _, err := s.fetchOne(cmd)
					if err != nil {
						return err
					}
					if f == nil {
						t.Fail("%s returned no FETCH response", cmd)
						return nil
					}
					if f.uid != uids[0] {
						t.Fail("the FETCH response to %s lacks UID %d; a UID command's FETCH responses must include it", cmd, uids[0])
						return nil
					}
				}
				return nil
			})
		},
	},
	{
		ID: "imap.uid.star-range", Title: "UID n:* includes the highest UID even when n is above it", Spec: "RFC 9051 §6.4.9", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 2, func(s *session, name string, _ [][]byte) error {
				if _, err := s.open(name, true); err != nil {
					return err
				}
				uids, err := s.uids()
				if err != nil || len(uids) != 2 {
					return fmt.Errorf("UIDs %v: %v", uids, err)
				}
				highest := uids[1]
				cmd := fmt.Sprintf("UID FETCH %d:* (UID)", highest+10)
				r, err := s.cmd(cmd)
				if err != nil {
					return err
				}
				fs, err := fetches(r)
				if err != nil {
					return err
				}
				if !r.OK() || len(fs) != 1 || fs[0].uid != highest {
					t.Fail("%s answered %s with %d FETCH responses; want exactly the message with the highest UID, %d", cmd, r.Done, len(fs), highest)
				}
				return nil
			})
		},
	},
}
