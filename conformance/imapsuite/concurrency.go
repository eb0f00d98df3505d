package imapsuite

import (
	"context"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// concurrencyChecks drive several sessions at once on one mailbox, as
// Dovecot's imaptest does, each judging every response against what its
// session was told before (stress.go, stressview.go). Both print the seed
// they ran with (engine.Options.StressSeed replays it) and run for
// Options.StressDuration.
var concurrencyChecks = []*engine.Check{
	{
		ID: "imap.concurrency.sequence", Title: "Under concurrent sessions, message numbers, UIDs, EXISTS and EXPUNGE stay consistent with each session's view", Spec: "RFC 9051 §2.3.1.1, §2.3.1.2, §5.2, §7.4.1, §7.5.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			run, err := stress(ctx, t, func(c contradictionClass) bool { return c == seqClass })
			if err != nil {
				return err
			}
			return verdictOf(t, run)
		},
	},
	{
		ID: "imap.concurrency.flags", Title: "Under concurrent sessions, flag changes reach every session in order, and keywords are announced by FLAGS before use", Spec: "RFC 9051 §5.2, §6.4.6, §7.3.5, §7.5.2; RFC 3501 §7.2.6", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			run, err := stress(ctx, t, func(contradictionClass) bool { return true })
			if err != nil {
				return err
			}
			if run.found != nil && run.found.class == seqClass {
				t.Precondition("%s (imap.concurrency.sequence judges that)", run.report())
			}
			return verdictOf(t, run)
		},
	},
}

// verdictOf fails the check with the run's first contradiction, or
// passes it naming the seed.
func verdictOf(t *engine.T, run *stressRun) error {
	if run.found != nil {
		t.Fail("%s", run.report())
		return nil
	}
	t.Pass("%s; every response agreed with its session's view", run.report())
	return nil
}
