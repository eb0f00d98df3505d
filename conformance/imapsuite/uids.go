package imapsuite

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

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
				_, err := s.open(name, true)
				t.Require(err)
				uids, err := s.seqUIDs()
				requireSubject(t, err)
				if len(uids) != 3 {
					t.Fail("FETCH 1:* (UID) in a mailbox of 3 messages returned %d UIDs: %v", len(uids), uids)
					return nil
				}
				if slices.Contains(uids, 0) {
					t.Precondition("FETCH 1:* (UID) answered without UID (imap.uid.fetch-includes-uid judges that): %v", uids)
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
				t.Require(err)
				if sel.uidNext == 0 {
					t.Precondition("EXAMINE %s sent no [UIDNEXT n] (imap.select.responses judges that)", name)
				}
				uids, err := s.uids()
				t.Require(err)
				for _, u := range uids {
					if u >= sel.uidNext {
						t.FailNow("UID %d is not below UIDNEXT %d", u, sel.uidNext)
					}
				}
				t.Require(s.add(name, seed.Message(t, seed.Nonce(), "mailcheck UIDNEXT", "Third.\r\n")))
				// A fresh EXAMINE, not NOOP: how the server announces new
				// mail to a selected mailbox is imap.consistency.*'s
				// subject, not this check's.
				_, err = s.open(name, true)
				t.Require(err)
				after, err := s.uids()
				t.Require(err)
				if len(after) != len(uids)+1 {
					t.Precondition("after one APPEND, a fresh EXAMINE shows UIDs %v (before: %v)", after, uids)
				}
				if u := after[len(after)-1]; u < sel.uidNext {
					t.FailNow("the appended message got UID %d, below the UIDNEXT %d announced before", u, sel.uidNext)
				}
				return nil
			})
		},
	},
	{
		ID: "imap.uidvalidity.session", Title: "UIDVALIDITY stays the same within a session and never decreases", Spec: "RFC 9051 §2.3.1.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 1, func(s *session, name string, _ [][]byte) error {
				// RFC 9051 §2.3.1.1: "The unique identifier of a message
				// MUST NOT change during the session" (a UID means
				// something only with its UIDVALIDITY), and when UIDs fail
				// to persist "the unique identifier validity value MUST be
				// greater than the one used in the earlier session".
				seen := s.uidValiditiesOf(t, name)
				for i := 1; i < len(seen); i++ {
					if seen[i].value != seen[0].value {
						t.FailNow("UIDVALIDITY of %s changed within one session: %s; the UIDs of a session MUST NOT change%s", name, seen, decrease(seen))
					}
				}
				s2, err := login(ctx, t)
				t.Require(err)
				defer s2.logout()
				next, err := s2.open(name, true)
				t.Require(err)
				if next.uidValidity != 0 && next.uidValidity < seen[0].value {
					t.FailNow("UIDVALIDITY of %s went down from %d to %d in the next session: a new UIDVALIDITY MUST be greater than the one before", name, seen[0].value, next.uidValidity)
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
				t.Require(err)
				if first.uidValidity == 0 {
					t.Precondition("EXAMINE %s sent no [UIDVALIDITY n] (imap.select.responses judges that)", name)
				}
				uids, err := s.uids()
				t.Require(err)
				again, err := s.open(name, true)
				t.Require(err)
				if again.uidValidity != first.uidValidity {
					t.Precondition("UIDVALIDITY changes within a session (%d, then %d; imap.uidvalidity.session judges that)", first.uidValidity, again.uidValidity)
				}
				s2, err := login(ctx, t)
				t.Require(err)
				defer s2.logout()
				second, err := s2.open(name, true)
				t.Require(err)
				uids2, err := s2.uids()
				t.Require(err)
				switch {
				case second.uidValidity < first.uidValidity:
					t.Precondition("UIDVALIDITY went down between sessions (%d, then %d; imap.uidvalidity.session judges that)", first.uidValidity, second.uidValidity)
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
			return withMailbox(ctx, t, 1, func(s *session, name string, _ [][]byte) error {
				before, err := s.open(name, true)
				t.Require(err)
				uids, err := s.uids()
				t.Require(err)
				if len(uids) != 1 {
					t.Precondition("UID SEARCH ALL in a mailbox of 1 message gave UIDs %v", uids)
				}
				for _, cmd := range []string{"CLOSE", "DELETE " + name, "CREATE " + name} {
					_, err := s.must(cmd)
					t.Require(err)
				}
				t.Require(s.add(name, seed.Message(t, seed.Nonce(), "mailcheck re-created mailbox", "Again.\r\n")))
				after, err := s.open(name, true)
				t.Require(err)
				uids2, err := s.uids()
				t.Require(err)
				if len(uids2) != 1 {
					t.Precondition("UID SEARCH ALL in the re-created mailbox of 1 message gave UIDs %v", uids2)
				}
				if before.uidValidity == 0 || after.uidValidity == 0 {
					t.Precondition("EXAMINE sent no [UIDVALIDITY n] (imap.select.responses judges that)")
				}
				if after.uidValidity == before.uidValidity && uids2[0] <= uids[0] {
					t.Fail("the re-created mailbox kept UIDVALIDITY %d and gave its new message UID %d (the old one had %d): a client would take it for the old message", after.uidValidity, uids2[0], uids[0])
				}
				return nil
			})
		},
	},
	{
		ID: "imap.uid.fetch-includes-uid", Title: "FETCH responses to UID FETCH and UID STORE include UID", Spec: "RFC 9051 §6.4.9", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 1, func(s *session, name string, _ [][]byte) error {
				_, err := s.open(name, false)
				t.Require(err)
				uids, err := s.uids()
				t.Require(err)
				if len(uids) != 1 {
					t.Precondition("UID SEARCH ALL in a mailbox of 1 message gave UIDs %v", uids)
				}
				for _, cmd := range []string{
					fmt.Sprintf("UID FETCH %d (FLAGS)", uids[0]),
					fmt.Sprintf(`UID STORE %d +FLAGS (\Flagged)`, uids[0]),
				} {
					f, r, err := s.fetchOne(cmd)
					requireSubject(t, err)
					if f == nil && strings.HasPrefix(cmd, "UID STORE") && len(r.malformed()) == 0 {
						t.Precondition("%s sent no FETCH at all (imap.store.fetch-response judges that)", cmd)
					}
					if f == nil {
						t.FailNow("%s returned no FETCH response%s", cmd, r.malformedNote())
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
				_, err := s.open(name, true)
				t.Require(err)
				uids, err := s.uids()
				t.Require(err)
				if len(uids) != 2 {
					t.Precondition("UID SEARCH ALL in a mailbox of 2 messages gave UIDs %v", uids)
				}
				highest := uids[1]
				cmd := fmt.Sprintf("UID FETCH %d:* (UID)", highest+10)
				r, err := s.cmd(cmd)
				t.Require(err)
				fs, err := fetches(r)
				requireSubject(t, err)
				if r.OK() && len(fs) == 1 && fs[0].uid == 0 {
					t.Precondition("the FETCH response to %s lacks UID (imap.uid.fetch-includes-uid judges that): %s", cmd, r.Of("FETCH")[0])
				}
				if !r.OK() || len(fs) != 1 || fs[0].uid != highest {
					t.Fail("%s answered %s with %d FETCH responses; want exactly the message with the highest UID, %d", cmd, r.Done, len(fs), highest)
				}
				return nil
			})
		},
	},
}

// uidValidity is one UIDVALIDITY a session was told, and by which command.
type uidValidity struct {
	by    string
	value uint32
}

type uidValidities []uidValidity

func (u uidValidities) String() string {
	parts := make([]string, len(u))
	for i, v := range u {
		parts[i] = fmt.Sprintf("%s said %d", v.by, v.value)
	}
	return strings.Join(parts, ", then ")
}

// decrease says how UIDVALIDITY went down, if it did.
func decrease(u uidValidities) string {
	for i := 1; i < len(u); i++ {
		if u[i].value < u[i-1].value {
			return fmt.Sprintf(", and it went down (%d to %d), where a new UIDVALIDITY MUST be greater", u[i-1].value, u[i].value)
		}
	}
	return ""
}

// uidValiditiesOf asks for mailbox's UIDVALIDITY four times in one
// session: STATUS, EXAMINE, EXAMINE again, STATUS again (STATUS while
// the mailbox is not selected: RFC 9051 §6.3.11, STATUS "SHOULD NOT be
// used on the currently selected mailbox"). A SELECT without it is imap.select.responses' subject, a
// STATUS without it imap.syntax.responses': the check then skips.
func (s *session) uidValiditiesOf(t *engine.T, mailbox string) uidValidities {
	var seen uidValidities
	status := func() {
		r, err := s.must("STATUS " + mailbox + " (UIDVALIDITY)")
		t.Require(err)
		v, ok := statusItem(r, "UIDVALIDITY")
		if !ok {
			t.Precondition("STATUS %s (UIDVALIDITY) gave no UIDVALIDITY%s", mailbox, r.malformedNote())
		}
		seen = append(seen, uidValidity{by: "STATUS", value: v})
	}
	examine := func() {
		sel, err := s.open(mailbox, true)
		t.Require(err)
		if sel.uidValidity == 0 {
			t.Precondition("EXAMINE %s sent no [UIDVALIDITY n] (imap.select.responses judges that)", mailbox)
		}
		seen = append(seen, uidValidity{by: "EXAMINE", value: sel.uidValidity})
		_, err = s.must("CLOSE")
		t.Require(err)
	}
	status()
	examine()
	examine()
	status()
	return seen
}

// statusItem is the value of item in the STATUS response of r.
func statusItem(r *result, item string) (uint32, bool) {
	for _, st := range r.Of("STATUS") {
		_, items, _ := strings.Cut(st.Text, "(")
		f := strings.Fields(strings.TrimSuffix(items, ")"))
		for i := 0; i+1 < len(f); i += 2 {
			if strings.EqualFold(f[i], item) {
				n, err := strconv.ParseUint(f[i+1], 10, 32)
				return uint32(n), err == nil
			}
		}
	}
	return 0, false
}
