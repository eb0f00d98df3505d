package readback

import (
	"context"
	"errors"
	"fmt"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/seed"
)

// controlBody is plain content: short ASCII lines, none starting with a
// dot or "From ", nothing a server has a reason to refuse or change.
const controlBody = "This message checks that the read-back mailbox returns mail as it was sent.\r\n" +
	"It is deleted as soon as it has been read.\r\n"

// trust is the run's finding about a read-back path: unmet says why it
// cannot be trusted ("" when it can).
type trust struct{ unmet string }

// Verify proves, once per run, the path from the SMTP server via to the
// read-back mailbox (Options.Readback): a plain control message is sent
// through via and read back. If it does not arrive, or arrives altered,
// no check can tell what the SMTP server did to its own message from what
// the read-back did to every message: Verify returns an
// *engine.PreconditionError naming the alteration, and the checks that
// judge content by read-back skip with it. The finding is kept in the
// run's state (Options.State), so the control is sent once per run and
// pair of servers, whichever check needs it first.
func Verify(ctx context.Context, t *engine.T, via engine.Target) error {
	rb := *t.Options.Readback
	key := "readback.control " + via.String() + " " + rb.String()
	v, err := t.Options.State.Memo(key, func() (any, error) { return control(ctx, t, via, rb) })
	if err != nil {
		return err
	}
	if f := v.(trust); f.unmet != "" {
		return engine.Unmet("%s", f.unmet)
	}
	t.Note("read-back path proven: the run's plain control message through %s came back intact from %s", via, rb)
	return nil
}

// control sends the control message and judges what comes back.
func control(ctx context.Context, t *engine.T, via, rb engine.Target) (trust, error) {
	n := seed.Nonce()
	t.Note("read-back control: a plain message (nonce %s) through %s, read back from %s", n, via, rb)
	sent := seed.Message(t, n, "mailcheck read-back control", controlBody)
	if err := seed.SendVia(ctx, t, via, sent); err != nil {
		if errors.Is(err, seed.ErrRefused) {
			return trust{fmt.Sprintf("the SMTP server refused a plain control message for the read-back (%v)", err)}, nil
		}
		return trust{}, err
	}
	got, err := Poll(ctx, t, rb, n)
	var refused *engine.PreconditionError
	if errors.As(err, &refused) {
		return trust{refused.Reason}, nil // the read-back server refuses: it stays so for the run
	}
	if err != nil {
		return trust{}, err
	}
	if got == nil {
		return trust{fmt.Sprintf("a plain control message sent to %s did not arrive in the read-back mailbox %s within %v", t.Options.Rcpt, rb, t.Options.ReadbackTimeout)}, nil
	}
	if d := Compare(sent, got); d != "" {
		return trust{fmt.Sprintf("the read-back path alters even a plain message, so it cannot judge what the SMTP server stores (control message through %s, read back from %s): %s", via, rb, d)}, nil
	}
	return trust{}, nil
}
