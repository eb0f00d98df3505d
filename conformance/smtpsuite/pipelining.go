package smtpsuite

import (
	"context"
	"slices"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// pipelined sends lines in one write and reads one reply per line.
func (s *session) pipelined(lines ...string) ([]*smtpreply.Reply, error) {
	if err := s.c.Write([]byte(strings.Join(lines, "\r\n") + "\r\n")); err != nil {
		return nil, err
	}
	var replies []*smtpreply.Reply
	for range lines {
		r, err := s.read()
		if err != nil {
			return replies, err
		}
		replies = append(replies, r)
	}
	return replies, nil
}

func codesOf(replies []*smtpreply.Reply) []int {
	var out []int
	for _, r := range replies {
		out = append(out, r.Code)
	}
	return out
}

// pipelinedGroup opens a session that advertises PIPELINING (else the
// check skips) and sends lines as one group, ending the check with Fail
// when replies go missing: the subject of both pipelining checks.
func pipelinedGroup(ctx context.Context, t *engine.T, lines ...string) (*session, []*smtpreply.Reply) {
	needRcpt(t)
	s := open(ctx, t)
	if !s.has("PIPELINING") {
		t.SkipNow("PIPELINING not advertised")
	}
	replies, err := s.pipelined(lines...)
	if err != nil {
		t.FailNow("%d of %d replies to a pipelined group arrived (%v): input was lost", len(replies), len(lines), err)
	}
	return s, replies
}

// The groups use --rcpt, an address the server accepts, and no DATA: they
// end with RSET and leave no message behind. A refusal of what is not
// their subject (MAIL, the recipient) is a precondition, unless it is 503:
// out of sequence means the commands were not run in order.
var pipeliningChecks = []*engine.Check{
	{
		ID: "smtp.pipelining.order", Title: "A pipelined MAIL/RCPT/RCPT/RSET/NOOP group gets every reply, in order", Spec: "RFC 2920 §3.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			rcpt := rcptCommand(t)
			s, replies := pipelinedGroup(ctx, t, "MAIL FROM:<"+t.Options.From+">", rcpt, rcpt, "RSET", "NOOP")
			// RSET and NOOP only have to be answered, in turn (whether
			// they get 250 is smtp.rset.ok's and smtp.noop.ok's business).
			inOrder(t, s, replies, []int{250}, []int{250, 251}, []int{250, 251}, nil, nil)
			return nil
		},
	},
	{
		ID: "smtp.pipelining.after-reject", Title: "Commands pipelined after a rejected one are still executed", Spec: "RFC 2920 §3.1, §3.2", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			// The surest road to the subject: first a group with nothing
			// to reject. If that loses input, the server loses pipelined
			// input whatever happens in it (smtp.pipelining.order's
			// subject), and a rejection has nothing to show.
			probe := open(ctx, t)
			if !probe.has("PIPELINING") {
				t.SkipNow("PIPELINING not advertised")
			}
			if got, err := probe.pipelined("NOOP", "NOOP"); err != nil {
				t.Precondition("a pipelined NOOP, NOOP without any rejection got %d of 2 replies (%v): pipelined input is lost anyway (smtp.pipelining.order judges that)", len(got), err)
			}
			probe.c.Close()
			// RCPT TO:<> is a syntax error everywhere; what follows it must
			// not be thrown away with it.
			s, replies := pipelinedGroup(ctx, t, "MAIL FROM:<"+t.Options.From+">", "RCPT TO:<>", rcptCommand(t), "RSET", "NOOP")
			if replies[1].Code/100 != 5 {
				t.Precondition("RCPT TO:<> answered %s, not a refusal: there is no rejected command to follow", s.describe(replies[1]))
			}
			inOrder(t, s, replies, []int{250}, nil, []int{250, 251}, nil, nil)
			return nil
		},
	},
}

// inOrder judges the replies to a pipelined group against the codes each
// command should get (nil: any). The first two commands that set up the
// transaction, MAIL and the first accepted RCPT, are preconditions when
// refused with anything but 503; a 503 anywhere, or another code where a
// reply was due, means the group was not run in order.
func inOrder(t *engine.T, s *session, replies []*smtpreply.Reply, want ...[]int) {
	for i, r := range replies {
		if want[i] == nil || slices.Contains(want[i], r.Code) {
			continue
		}
		if r.Code != 503 && (r.Code/100 == 4 || r.Code/100 == 5) && i <= 2 {
			t.Precondition("pipelined command %d of %d answered %s", i+1, len(replies), s.describe(r))
		}
		t.FailNow("replies %v: command %d of %d got %s, want %s in command order", codesOf(replies), i+1, len(replies), s.describe(r), codeList(want[i]))
	}
}
