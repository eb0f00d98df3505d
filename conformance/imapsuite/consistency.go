package imapsuite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/seed"
)

// view is what one session knows of its selected mailbox, kept up to date
// from the responses it gets, as a client keeps it: EXISTS adds messages
// (their UIDs unknown until fetched), EXPUNGE removes one and renumbers,
// FETCH sets UID and flags. This is the model of Dovecot's imaptest.
type view struct {
	s    *session
	msgs []viewMsg
	// bad is the first response that contradicted the view.
	bad string
	// stored is the flag this session itself stored on a UID: what it
	// learns of those is imap.store.*'s subject, not the sharing's.
	stored map[uint32]string
}

// store stores flag on uid from this session, as a client does (the
// responses applied), and remembers it.
func (v *view) store(uid uint32, item, flag string) error {
	if _, err := v.do(fmt.Sprintf(`UID STORE %d %s (%s)`, uid, item, flag)); err != nil {
		return err
	}
	if v.stored == nil {
		v.stored = map[uint32]string{}
	}
	v.stored[uid] = flag
	return nil
}

// ascending reports whether the UIDs the view knows ascend.
func (v *view) ascending() bool {
	for i := 1; i < len(v.msgs); i++ {
		if v.msgs[i].uid <= v.msgs[i-1].uid {
			return false
		}
	}
	return true
}

type viewMsg struct {
	uid   uint32
	flags []string
}

// do runs a command that must succeed and applies its responses.
func (v *view) do(line string) (*result, error) {
	r, err := v.s.must(line)
	if r != nil {
		v.apply(r.Untagged)
	}
	return r, err
}

func (v *view) apply(rs []*response) {
	note := func(format string, args ...any) {
		if v.bad == "" {
			v.bad = fmt.Sprintf(format, args...)
		}
	}
	for _, r := range rs {
		if rule := malformation(r.Tag, r.Text, r.Lits); rule != "" {
			// A client cannot apply what it cannot parse: say so, rather
			// than that the update was missing.
			note("%q is malformed: %s", r, rule)
		}
		switch r.Kind() {
		case "EXISTS":
			n := int(r.Num())
			if n < len(v.msgs) {
				note("%q: EXISTS below the %d messages known (only EXPUNGE removes messages)", r, len(v.msgs))
				v.msgs = v.msgs[:n]
			}
			for len(v.msgs) < n {
				v.msgs = append(v.msgs, viewMsg{})
			}
		case "EXPUNGE":
			n := int(r.Num())
			if n < 1 || n > len(v.msgs) {
				note("%q: no message %d among the %d known", r, n, len(v.msgs))
				continue
			}
			v.msgs = slices.Delete(v.msgs, n-1, n)
		case "FETCH":
			f, err := parseFetch(r)
			if err != nil {
				note("%v", err)
				continue
			}
			if f.seq < 1 || int(f.seq) > len(v.msgs) {
				note("%q: no message %d among the %d known", r, f.seq, len(v.msgs))
				continue
			}
			m := &v.msgs[f.seq-1]
			if f.uid != 0 {
				if m.uid != 0 && m.uid != f.uid {
					note("%q: message %d had UID %d", r, f.seq, m.uid)
				}
				m.uid = f.uid
			}
			if f.hasFlags {
				m.flags = f.flags
			}
		}
	}
}

// fill fetches UID and flags of the messages whose UID the view lacks
// (announced by EXISTS), as a client does.
func (v *view) fill() error {
	for i := range v.msgs {
		if v.msgs[i].uid == 0 {
			if _, err := v.do(fmt.Sprintf("FETCH %d (UID FLAGS)", i+1)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (v *view) uids() []uint32 {
	out := make([]uint32, len(v.msgs))
	for i, m := range v.msgs {
		out[i] = m.uid
	}
	return out
}

// flagsByUID renders each message's flags in a canonical order, \Recent
// left out: it is per-session by definition. Flags are case-insensitive:
// compare the renderings with strings.EqualFold.
func (v *view) flagsByUID() map[uint32]string {
	out := make(map[uint32]string, len(v.msgs))
	for _, m := range v.msgs {
		var fs []string
		for _, f := range m.flags {
			if !strings.EqualFold(f, `\Recent`) {
				fs = append(fs, f)
			}
		}
		slices.SortFunc(fs, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		out[m.uid] = "(" + strings.Join(fs, " ") + ")"
	}
	return out
}

// openView selects mailbox on s and builds the view from SELECT and a FETCH
// of every message.
func openView(s *session, mailbox string) (*view, error) {
	sel, err := s.open(mailbox, false)
	if err != nil {
		return nil, err
	}
	v := &view{s: s}
	v.apply(sel.res.Untagged)
	if len(v.msgs) > 0 {
		if _, err := v.do("FETCH 1:* (UID FLAGS)"); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// checkpoint runs three sessions on one scratch mailbox, each changing it
// in turn (APPEND, STORE, EXPUNGE), then brings each up to date with NOOP
// and returns their views and the mailbox as a fresh session sees it.
func checkpoint(ctx context.Context, t *engine.T, fn func(views []*view, truth *view) error) error {
	return withMailbox(ctx, t, 4, func(s1 *session, name string, _ [][]byte) error {
		sessions := []*session{s1}
		for range 2 {
			s, err := login(ctx, t)
			if err != nil {
				return err
			}
			defer s.logout()
			sessions = append(sessions, s)
		}
		var views []*view
		for _, s := range sessions {
			v, err := openView(s, name)
			if err != nil {
				return err
			}
			if len(v.msgs) != 4 || v.bad != "" {
				return engine.Unmet("SELECT of the 4-message mailbox: %d messages (%s)", len(v.msgs), v.bad)
			}
			if !v.ascending() {
				return engine.Unmet("FETCH 1:* (UID FLAGS) gave UIDs %v, not ascending (imap.uid.ascending judges that)", v.uids())
			}
			views = append(views, v)
		}
		uid := func(v *view, i int) uint32 { return v.msgs[i].uid }
		msg := func(i int) []byte {
			return seed.Message(t, seed.Nonce(), fmt.Sprintf("mailcheck checkpoint %d", i), "Checkpoint.\r\n")
		}
		steps := []func() error{
			func() error { return appendView(views[0], name, msg(5)) },
			func() error { return views[1].store(uid(views[1], 1), "+FLAGS", `\Flagged`) },
			func() error { return views[2].store(uid(views[2], 2), "+FLAGS.SILENT", `\Deleted`) },
			// The mailbox is the check's own: EXPUNGE removes only what
			// the check marked.
			func() error {
				r, err := views[2].do("EXPUNGE")
				if err != nil || len(r.Of("EXPUNGE")) == 0 {
					return err // not told: announcing is this group's subject
				}
				return renumbered(views[2])
			},
			func() error { return views[0].store(uid(views[0], 3), "+FLAGS", `\Answered`) },
			func() error { return appendView(views[1], name, msg(6)) },
			func() error { return views[2].store(uid(views[2], 0), "+FLAGS", `\Seen`) },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		for _, v := range views {
			if _, err := v.do("NOOP"); err != nil {
				return err
			}
			if err := v.fill(); err != nil {
				return err
			}
		}
		fresh, err := login(ctx, t)
		if err != nil {
			return err
		}
		defer fresh.logout()
		truth, err := openView(fresh, name)
		if err != nil {
			return err
		}
		return fn(views, truth)
	})
}

// renumbered makes sure that a session told of its own EXPUNGE numbers the
// messages as the server does: when EXPUNGE does not renumber, the views
// part for that reason, imap.expunge.renumber's subject.
func renumbered(v *view) error {
	r, err := v.s.must("FETCH 1:* (UID)")
	if err != nil {
		return err
	}
	fs, err := fetches(r)
	if err != nil {
		return err
	}
	seqOf := map[uint32]uint32{}
	for _, f := range fs {
		seqOf[f.uid] = f.seq
	}
	for i, m := range v.msgs {
		if seq, ok := seqOf[m.uid]; m.uid != 0 && ok && seq != uint32(i+1) {
			return engine.Unmet("after its EXPUNGE, a session that counts UID %d as message %d got it as message %d: EXPUNGE did not renumber (imap.expunge.renumber judges that)", m.uid, i+1, seq)
		}
	}
	return nil
}

// appendView appends msg from a session that has the mailbox selected.
func appendView(v *view, mailbox string, msg []byte) error {
	r, err := v.s.appendMsg(mailbox, "", msg)
	if err != nil {
		return err
	}
	v.apply(r.Untagged)
	if !r.OK() {
		return fmt.Errorf("APPEND to %s answered %s", mailbox, r.Done)
	}
	return nil
}

var consistencyChecks = []*engine.Check{
	{
		ID: "imap.consistency.count-uids", Title: "Sessions sharing a mailbox agree on its messages and UIDs after NOOP", Spec: "RFC 9051 §5.2, §7.4.1, §7.5.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return checkpoint(ctx, t, func(views []*view, truth *view) error {
				want := truth.uids()
				for i, v := range views {
					switch {
					case v.bad != "":
						t.Fail("session %d: %s", i+1, v.bad)
						return nil
					case !slices.Equal(v.uids(), want):
						t.Fail("after NOOP, session %d sees the messages as UIDs %v; the mailbox holds %v: size changes (EXISTS, EXPUNGE) were not reported", i+1, v.uids(), want)
						return nil
					}
				}
				return nil
			})
		},
	},
	{
		ID: "imap.consistency.flags", Title: "Sessions sharing a mailbox learn each other's flag changes by NOOP", Spec: "RFC 9051 §5.2, §6.4.6", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			return checkpoint(ctx, t, func(views []*view, truth *view) error {
				want := truth.flagsByUID()
				for i, v := range views {
					if !slices.Equal(v.uids(), truth.uids()) {
						t.Precondition("session %d sees UIDs %v, the mailbox holds %v (imap.consistency.count-uids judges that)", i+1, v.uids(), truth.uids())
					}
					for uid, flag := range v.stored {
						if f, ok := want[uid]; ok && !strings.Contains(strings.ToLower(f), strings.ToLower(flag)) {
							t.Precondition("session %d stored %s on UID %d, and a new session finds %s (imap.flags.persist judges that)", i+1, flag, uid, f)
						}
					}
				}
				for i, v := range views {
					got := v.flagsByUID()
					for _, uid := range truth.uids() {
						if _, own := v.stored[uid]; own {
							continue
						}
						if g, ok := got[uid]; ok && !strings.EqualFold(g, want[uid]) {
							t.Fail("after NOOP, session %d knows UID %d with flags %s; it has %s: flag changes by other sessions were not reported", i+1, uid, g, want[uid])
							return nil
						}
					}
				}
				return nil
			})
		},
	},
	{
		ID: "imap.mailbox.new-mail-exists", Title: "Mail delivered to a selected mailbox is announced by EXISTS on NOOP", Spec: "RFC 9051 §5.2, §7.4.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			if t.Options.Seed == nil || t.Options.Rcpt == "" {
				t.Skip("needs a seed server to deliver a message (--seed smtp://… with --rcpt)")
				return nil
			}
			a, err := login(ctx, t)
			if a == nil || err != nil {
				return err
			}
			sel, err := a.open("INBOX", true)
			if err != nil {
				return err
			}
			count := sel.exists
			n := seed.Nonce()
			if err := seed.Send(ctx, t, seed.Message(t, n, "mailcheck new mail", "Delivered while INBOX is selected.\r\n")); errors.Is(err, seed.ErrNoSeed) {
				t.Skip("%v", err)
				return nil
			} else if err != nil {
				return err
			}
			b, err := login(ctx, t)
			if err != nil {
				return err
			}
			defer b.logout()
			uid, err := b.arrive(ctx, n)
			if err != nil {
				return err
			}
			if uid == 0 {
				t.Precondition("the seeded message (nonce %s) did not arrive in INBOX within %v", n, t.Options.ReadbackTimeout)
			}
			defer b.deleteOwn("INBOX", uid)
			// Another session saw it: this one must be told on NOOP.
			r, err := a.must("NOOP")
			requireSubject(t, err)
			for _, u := range r.Untagged {
				switch u.Kind() {
				case "EXISTS":
					count = int64(u.Num())
				case "EXPUNGE":
					count--
				}
			}
			found, err := a.must("SEARCH HEADER X-Mailcheck-Nonce " + n)
			if err != nil {
				return err
			}
			seqs := searchNums(found)
			switch {
			case len(seqs) == 0:
				t.Fail("after NOOP, this session does not see the message another session already sees: its arrival was not reported")
			case int64(seqs[0]) > count:
				t.Fail("the message is number %d, but EXISTS has announced only %d messages to this session", seqs[0], count)
			}
			return nil
		},
	},
}

// arrive waits for the message carrying nonce n to be in INBOX, polling
// with a fresh EXAMINE, and returns its UID; 0 if it did not arrive within
// Options.ReadbackTimeout.
func (s *session) arrive(ctx context.Context, n string) (uint32, error) {
	deadline := time.Now().Add(s.t.Options.ReadbackTimeout)
	for {
		if _, err := s.open("INBOX", true); err != nil {
			return 0, err
		}
		r, err := s.must("UID SEARCH HEADER X-Mailcheck-Nonce " + n)
		if err != nil {
			return 0, err
		}
		if uids := searchNums(r); len(uids) > 0 {
			return uids[0], nil
		}
		if time.Now().After(deadline) {
			return 0, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// deleteOwn deletes one message the check put in mailbox, by UID, and only
// it: with UID EXPUNGE (UIDPLUS, IMAP4rev2), else not at all.
func (s *session) deleteOwn(mailbox string, uid uint32) {
	if s.broken {
		return
	}
	if !s.uidExpunge() {
		s.t.Note("message UID %d left in %s: without UID EXPUNGE the suite cannot delete it alone", uid, mailbox)
		return
	}
	if _, err := s.open(mailbox, false); err != nil {
		return
	}
	s.cmdf(`UID STORE %d +FLAGS.SILENT (\Deleted)`, uid)
	s.cmdf("UID EXPUNGE %d", uid)
}
