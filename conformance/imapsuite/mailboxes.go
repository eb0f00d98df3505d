package imapsuite

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/seed"
)

// listed reports whether LIST shows the mailbox name.
func (s *session) listed(name string) (bool, error) {
	r, err := s.cmd(`LIST "" ` + name)
	if err != nil {
		return false, err
	}
	for _, l := range r.Of("LIST") {
		f := strings.Fields(l.Text)
		if len(f) > 0 && strings.Trim(f[len(f)-1], `"`) == strings.Trim(name, `"`) {
			return true, nil
		}
	}
	return false, nil
}

// foreign counts the messages among seqs that lack the suite's
// X-Mailcheck-Nonce header; those gone meanwhile do not count.
func (s *session) foreign(seqs []uint32) (int, error) {
	set := make([]string, len(seqs))
	for i, n := range seqs {
		set[i] = strconv.FormatUint(uint64(n), 10)
	}
	r, err := s.cmd("FETCH " + strings.Join(set, ",") + " (BODY.PEEK[HEADER.FIELDS (X-Mailcheck-Nonce)])")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range r.Of("FETCH") {
		if !bytes.Contains(bytes.ToLower(bytes.Join(f.Lits, nil)), []byte("x-mailcheck-nonce:")) {
			n++
		}
	}
	return n, nil
}

var mailboxChecks = []*engine.Check{
	{
		ID: "imap.create.existing", Title: "CREATE of an existing mailbox (or INBOX) gets NO", Spec: "RFC 9051 §6.3.4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 0, func(s *session, name string, _ [][]byte) error {
				for _, existing := range []string{name, "INBOX"} {
					r, err := s.cmd("CREATE " + existing)
					if err != nil {
						return err
					}
					if r.Status() != "NO" {
						t.Fail("CREATE %s, which exists, answered %s; creating an extant mailbox is an error (NO)", existing, r.Done)
						return nil
					}
				}
				return nil
			})
		},
	},
	{
		ID: "imap.create.persists", Title: "A mailbox created in one session exists in the next", Spec: "RFC 9051 §6.3.4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			name, err := s.scratch()
			if err != nil {
				return err
			}
			s.logout()
			// drop logs in again if s2 never came: the mailbox goes
			// whatever happens.
			var s2 *session
			defer func() { drop(ctx, t, s2, name) }()
			s2, err = login(ctx, t)
			if err != nil {
				return err
			}
			ok, err := s2.listed(name)
			if err != nil {
				return err
			}
			if !ok {
				t.Fail("mailbox %s, created in the previous session, is not listed in this one", name)
			}
			return nil
		},
	},
	{
		ID: "imap.delete.inbox", Title: "DELETE INBOX gets NO", Spec: "RFC 9051 §6.3.5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			// A server that wrongly obeyed would delete the INBOX and its
			// mail: try only when every message there is the suite's own.
			if _, err := s.open("INBOX", true); err != nil {
				return err
			}
			r, err := s.cmd(`SEARCH NOT HEADER X-Mailcheck-Nonce ""`)
			if err != nil {
				return err
			}
			if !r.OK() {
				t.Skip("cannot tell whether INBOX holds mail the suite did not put there (SEARCH answered %s): DELETE INBOX not tried", r.Done)
				return nil
			}
			if found := searchNums(r); len(found) > 0 {
				// Look at them: a message expunged meanwhile (another
				// check deleting its own) can match, unreadable.
				foreign, err := s.foreign(found)
				if err != nil {
					return err
				}
				if foreign > 0 {
					t.Skip("INBOX holds %d messages the suite did not put there: DELETE INBOX is not tried on it", foreign)
					return nil
				}
			}
			if _, err := s.cmd("CLOSE"); err != nil {
				return err
			}
			r, err = s.cmd("DELETE INBOX")
			if err != nil {
				return err
			}
			if r.Status() != "NO" {
				t.Fail("DELETE INBOX answered %s; deleting INBOX is an error (NO)", r.Done)
			}
			return nil
		},
	},
	{
		ID: "imap.delete.missing", Title: "DELETE of a mailbox that does not exist gets NO", Spec: "RFC 9051 §6.3.5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			absent := s.absentName()
			r, err := s.cmd("DELETE " + absent)
			if err != nil {
				return err
			}
			if r.Status() != "NO" {
				t.Fail("DELETE %s, which does not exist, answered %s, want NO", absent, r.Done)
			}
			return nil
		},
	},
	{
		ID: "imap.append.missing-mailbox", Title: "APPEND to a missing mailbox gets NO and creates nothing", Spec: "RFC 9051 §6.3.12", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			absent := s.absentName()
			r, err := s.appendMsg(absent, "", seed.Message(t, seed.Nonce(), "mailcheck APPEND to a missing mailbox", "Never stored.\r\n"))
			if err != nil {
				return err
			}
			created, err := s.listed(absent)
			if err != nil {
				return err
			}
			if created {
				defer drop(ctx, t, s, absent)
			}
			switch {
			case r.Status() != "NO":
				t.Fail("APPEND to %s, which does not exist, answered %s, want NO", absent, r.Done)
			case created:
				t.Fail("APPEND to a missing mailbox created it; the server must not create it automatically")
			}
			return nil
		},
	},
	{
		ID: "imap.append.trycreate", Title: "APPEND to a missing mailbox answers NO [TRYCREATE]", Spec: "RFC 9051 §6.3.12", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			absent := s.absentName()
			r, err := s.appendMsg(absent, "", seed.Message(t, seed.Nonce(), "mailcheck APPEND to a missing mailbox", "Never stored.\r\n"))
			if err != nil {
				return err
			}
			if r.Status() != "NO" {
				t.Skip("APPEND to a missing mailbox answered %s (imap.append.missing-mailbox judges that)", r.Done)
				if r.OK() {
					drop(ctx, t, s, absent)
				}
				return nil
			}
			if r.Done.CodeIs("TRYCREATE") {
				return nil
			}
			if rule := malformation(r.Done.Tag, r.Done.Text, r.Done.Lits); rule != "" {
				// "NO APPEND [TRYCREATE] failed": the code may be there, in
				// the wrong place, where a client does not look for it.
				t.FailNow("APPEND to a missing mailbox answered %q, which is malformed: %s", r.Done, rule)
			}
			// TRYCREATE may be left out only when the server is certain
			// the mailbox cannot be created.
			c, err := s.cmd("CREATE " + absent)
			if err != nil {
				return err
			}
			if c.OK() {
				drop(ctx, t, s, absent)
				t.Fail("APPEND answered %s without [TRYCREATE], yet CREATE of that mailbox succeeded", r.Done)
			}
			return nil
		},
	},
	{
		ID: "imap.append.content-exact", Title: "An appended message is stored octet for octet", Spec: "RFC 9051 §6.3.12, §6.4.5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 1, func(s *session, name string, msgs [][]byte) error {
				if _, err := s.open(name, true); err != nil {
					return err
				}
				f, _, err := s.fetchOne("FETCH 1 (BODY.PEEK[])")
				if err != nil {
					return err
				}
				switch {
				case f == nil || !f.hasBody:
					t.Fail("FETCH 1 (BODY.PEEK[]) returned no BODY[]")
				case !bytes.Equal(f.body, msgs[0]):
					t.Fail("BODY[] of the appended message differs from what was appended (%d octets appended, %d returned)", len(msgs[0]), len(f.body))
				}
				return nil
			})
		},
	},
	{
		ID: "imap.status.messages", Title: "STATUS MESSAGES counts the messages in the mailbox", Spec: "RFC 9051 §6.3.11", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return withMailbox(ctx, t, 2, func(s *session, name string, _ [][]byte) error {
				r, err := s.cmd("STATUS " + name + " (MESSAGES)")
				if err != nil {
					return err
				}
				st := r.Of("STATUS")
				if !r.OK() || len(st) == 0 {
					t.Fail("STATUS %s (MESSAGES) answered %s with %d STATUS responses%s", name, r.Done, len(st), r.malformedNote())
					return nil
				}
				_, items, _ := strings.Cut(st[0].Text, "(")
				f := strings.Fields(strings.TrimSuffix(items, ")"))
				if len(f) != 2 || !strings.EqualFold(f[0], "MESSAGES") || f[1] != "2" {
					t.Fail("STATUS of a mailbox holding 2 messages answered %s", st[0])
				}
				return nil
			})
		},
	},
}
