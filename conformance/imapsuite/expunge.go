package imapsuite

import (
	"context"
	"slices"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

var expungeChecks = []*engine.Check{
	{
		ID: "imap.expunge.renumber", Title: "EXPUNGE renumbers the messages after the expunged one", Spec: "RFC 9051 §2.3.1.2, §7.5.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 3, func(s *session, name string, _ [][]byte) error {
				if _, err := s.open(name, false); err != nil {
					return err
				}
				before, err := s.seqUIDs()
				if err != nil {
					return err
				}
				if len(before) != 3 {
					t.Precondition("FETCH 1:* (UID) returned UIDs %v for 3 messages", before)
				}
				s.markDeleted(2)
				// The mailbox is the check's own: EXPUNGE removes just the
				// message marked here.
				r, err := s.must("EXPUNGE")
				requireSubject(t, err)
				var expunged []uint32
				for _, e := range r.Of("EXPUNGE") {
					expunged = append(expunged, e.Num())
				}
				if len(expunged) == 0 && len(r.malformed()) == 0 {
					// Telling the session of expunges at all is
					// imap.consistency.count-uids' subject.
					t.Precondition("EXPUNGE of message 2 of 3 sent no untagged EXPUNGE")
				}
				if v := r.malformed(); len(v) > 0 && !slices.Equal(expunged, []uint32{2}) {
					t.FailNow("EXPUNGE of message 2 of 3 got a malformed response where \"* 2 EXPUNGE\" belongs: %s", v[0])
				}
				if !slices.Equal(expunged, []uint32{2}) {
					t.FailNow("EXPUNGE of message 2 of 3 sent EXPUNGE responses for %v, want [2]", expunged)
				}
				f, _, err := s.fetchOne("FETCH 2 (UID)")
				requireSubject(t, err)
				switch {
				case f == nil:
					t.Fail("after message 2 was expunged, FETCH 2 returned nothing: the former message 3 (UID %d) is now message 2", before[2])
				case f.seq != 2 || f.uid != before[2]:
					t.Fail("after message 2 was expunged, FETCH 2 answered for message %d with UID %d; want the former message 3, UID %d", f.seq, f.uid, before[2])
				}
				return nil
			})
		},
	},
	{
		ID: "imap.expunge.not-during-fetch", Title: "No EXPUNGE is sent during FETCH, STORE or SEARCH", Spec: "RFC 9051 §7.5.1, §5.2", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 3, func(a *session, name string, _ [][]byte) error {
				if _, err := a.open(name, false); err != nil {
					return err
				}
				b, err := login(ctx, t)
				if err != nil {
					return err
				}
				defer b.logout()
				if _, err := b.open(name, false); err != nil {
					return err
				}
				b.markDeleted(2)
				if _, err := b.must("EXPUNGE"); err != nil {
					return err
				}
				// A still numbers the messages 1 to 3; an EXPUNGE now would
				// shift the numbers under the command's feet.
				for _, cmd := range []string{"FETCH 1:3 (FLAGS)", `STORE 3 +FLAGS (\Flagged)`, "SEARCH ALL"} {
					r, err := a.cmd(cmd)
					if err != nil {
						return err
					}
					if e := r.Of("EXPUNGE"); len(e) > 0 {
						t.Fail("%q got %q while it was being answered: EXPUNGE must not be sent during FETCH, STORE or SEARCH", cmd, e[0])
						return nil
					}
				}
				// NOOP must bring the EXPUNGE held back: without it the
				// server may never announce expunges at all, and the
				// silence above proves nothing. Announcing them is
				// imap.consistency.count-uids' subject.
				r, err := a.must("NOOP")
				t.Require(err)
				if e := r.Of("EXPUNGE"); len(e) != 1 || e[0].Num() != 2 {
					t.Precondition("NOOP after another session expunged message 2 sent %d EXPUNGE responses (%v), not \"* 2 EXPUNGE\"%s: when the server announces expunges cannot be seen", len(e), e, r.malformedNote())
				}
				return nil
			})
		},
	},
}
