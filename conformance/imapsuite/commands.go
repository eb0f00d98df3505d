package imapsuite

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

var commandChecks = []*engine.Check{
	{
		ID: "imap.greeting.ok", Title: "The greeting is an untagged OK, PREAUTH or BYE", Spec: "RFC 9051 §3, §7.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			c, err := t.Dial(ctx)
			if err != nil {
				return err
			}
			l, err := c.ReadLine()
			if err != nil {
				return err
			}
			line := strings.TrimRight(string(l), "\r\n")
			for _, ok := range []string{"* OK", "* PREAUTH", "* BYE"} {
				if strings.HasPrefix(strings.ToUpper(line), ok) && (len(line) == len(ok) || line[len(ok)] == ' ') {
					if ok == "* BYE" {
						t.Pass("the server refuses service (BYE greeting): a valid greeting, but nothing else can be checked")
					}
					return nil
				}
			}
			t.Fail("greeting %q is not \"* OK\", \"* PREAUTH\" or \"* BYE\"", line)
			return nil
		},
	},
	{
		ID: "imap.capability.version", Title: "CAPABILITY lists IMAP4rev1 or IMAP4rev2", Spec: "RFC 9051 §6.1.1, §7.2.2; RFC 3501 §7.2.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			if err != nil {
				return err
			}
			r, err := s.cmd("CAPABILITY")
			if err != nil {
				return err
			}
			caps := r.Of("CAPABILITY")
			switch {
			case !r.OK():
				t.Fail("CAPABILITY answered %s", r.Done)
			case len(caps) == 0:
				t.Fail("CAPABILITY completed without the required untagged CAPABILITY response%s", r.malformedNote())
			default:
				s.setCaps(caps[0].Text)
				if !s.has("IMAP4rev1") && !s.has("IMAP4rev2") {
					t.Fail("the capability list %q names neither IMAP4rev1 nor IMAP4rev2", caps[0].Text)
				}
			}
			return nil
		},
	},
	{
		ID: "imap.command.one-tagged-reply", Title: "Each command gets exactly one tagged response", Spec: "RFC 9051 §2.2.2", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			if err != nil {
				return err
			}
			// NOOP and CAPABILITY are valid in every state; the last NOOP
			// is a sentinel: a second tagged response to any command before
			// it arrives before its own.
			seen := map[string]int{}
			var sent []string
			for _, cmd := range []string{"NOOP", "CAPABILITY", "NOOP", "NOOP"} {
				tag := s.nextTag()
				sent = append(sent, tag)
				if err := s.send(tag + " " + cmd); err != nil {
					return err
				}
				for {
					r, err := s.read()
					if err != nil {
						return err
					}
					if r.Tag == "*" || r.Tag == "+" {
						continue
					}
					seen[r.Tag]++
					if r.Tag == tag {
						break
					}
				}
			}
			for _, tag := range sent {
				if seen[tag] != 1 {
					t.Fail("command %s got %d tagged responses", tag, seen[tag])
					return nil
				}
			}
			for tag := range seen {
				if !strings.HasPrefix(tag, "mc") {
					t.Fail("a tagged response with tag %q, which no command had", tag)
				}
			}
			return nil
		},
	},
	{
		ID: "imap.command.syntax-error-bad", Title: "A command with a syntax error gets a tagged BAD", Spec: "RFC 9051 §2.2.2, §7.1.3", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return expectBAD(ctx, t, "SELECT", "SELECT without its mailbox argument")
		},
	},
	{
		ID: "imap.command.unknown-bad", Title: "An unknown command gets a tagged BAD", Spec: "RFC 9051 §2.2.2, §7.1.3", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return expectBAD(ctx, t, "MAILCHECK-NO-SUCH-COMMAND", "an unknown command")
		},
	},
	{
		ID: "imap.logout.bye", Title: "LOGOUT sends an untagged BYE before the tagged OK, then closes", Spec: "RFC 9051 §6.1.3", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := dial(ctx, t)
			if err != nil {
				return err
			}
			r, err := s.cmd("LOGOUT")
			if err != nil {
				return err
			}
			if !r.OK() {
				t.Fail("LOGOUT answered %s", r.Done)
				return nil
			}
			if len(r.Of("BYE")) == 0 {
				t.Fail("no untagged BYE before the tagged OK to LOGOUT%s", r.malformedNote())
				return nil
			}
			// The close owes no reply: it comes right after the tagged
			// OK or not at all, so the wait is a short one, not the
			// phase's reply timeout of minutes.
			if wait := logoutCloseWait; !s.c.Closed(wait) {
				t.Fail("the connection stayed open %v after LOGOUT completed", wait)
			}
			return nil
		},
	},
	{
		ID: "imap.login.logindisabled", Title: "LOGIN is refused while LOGINDISABLED is advertised", Spec: "RFC 9051 §6.2.3, §7.2.2; RFC 3501 §7.2.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			if t.Target.ImplicitTLS {
				t.Skip("implicit TLS target: LOGINDISABLED applies before TLS")
				return nil
			}
			if t.Target.User == "" {
				t.Skip("needs credentials (imap://user:password@host)")
				return nil
			}
			s, err := dial(ctx, t)
			if err != nil {
				return err
			}
			if s.authed {
				t.Skip("PREAUTH greeting: no LOGIN to refuse")
				return nil
			}
			if err := s.capability(); err != nil {
				return err
			}
			if !s.has("LOGINDISABLED") {
				t.Skip("LOGINDISABLED not advertised before TLS")
				return nil
			}
			// The server must refuse LOGIN "even if the user name and
			// password are valid": only the real password proves it. It is
			// sent in clear text only to a server on this machine; a
			// remote one gets a wrong password, so a refusal is then
			// weaker evidence.
			pass, real := t.Target.Password, isLoopback(ctx, t)
			if !real {
				pass = "mailcheck-wrong-password"
			}
			r, err := s.cmd("LOGIN " + quote(t.Target.User) + " " + quote(pass))
			if err != nil {
				return err
			}
			switch {
			case r.OK():
				t.Fail("LOGIN succeeded in clear text although LOGINDISABLED is advertised")
			case !real:
				t.Pass("LOGIN refused (%s); a wrong password was sent, since the real one must not cross the network in clear text", r.Status())
			}
			return nil
		},
	},
	{
		ID: "imap.literal.continuation", Title: "A synchronizing literal gets a continuation request before its data", Spec: "RFC 9051 §4.3, §7.6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			tag := s.nextTag()
			if err := s.send(tag + " STATUS {5}"); err != nil {
				return err
			}
			r, cont, err := s.readUntil(tag, true)
			switch {
			case errors.Is(err, engine.ErrTimeout):
				t.Fail("no continuation request within %v after a command ending in the literal {5}: client and server wait for each other", s.c.ReadTimeout())
				return nil
			case err != nil:
				return err
			case !cont:
				t.Fail("the literal {5} (a mailbox name) got %s instead of a continuation request", r.Done)
				return nil
			}
			if err := s.send("INBOX (MESSAGES)"); err != nil {
				return err
			}
			r, _, err = s.readUntil(tag, false)
			if err != nil {
				return err
			}
			if !r.OK() {
				t.Fail("STATUS with its mailbox name in a literal answered %s", r.Done)
			}
			return nil
		},
	},
}

// expectBAD logs in, sends line and fails the check unless it gets a tagged
// BAD.
func expectBAD(ctx context.Context, t *engine.T, line, what string) error {
	s, err := login(ctx, t)
	if s == nil || err != nil {
		return err
	}
	r, err := s.cmd(line)
	if err != nil {
		return err
	}
	if r.Status() != "BAD" {
		t.Fail("%s (%q) got %s, want a tagged BAD", what, line, r.Done)
	}
	return nil
}

// logoutCloseWait is how long imap.logout.bye waits for the server to
// close the connection after its tagged OK to LOGOUT.
const logoutCloseWait = 5 * time.Second
