// Package imapsuite is the IMAP conformance suite: RFC 9051 (IMAP4rev2)
// and RFC 3501 (IMAP4rev1). Each check opens its own connections and
// logs in with the target's credentials (imap://user:password@host),
// upgrading with STARTTLS when offered; without credentials the checks
// that need a login skip.
//
// Checks run in parallel and never assume what the mailbox holds: most
// work in a mailbox of their own (mailcheck-<nonce>, in the personal
// namespace: "INBOX.mailcheck-<nonce>" on a server that keeps mailboxes
// under INBOX.), which they create, fill with APPEND and delete at the
// end, whatever the verdict. A check fails only for its own subject: when
// the server refuses a step that is another check's subject, it skips
// ("precondition: …") quoting the reply. Every response is read against
// the RFC 9051 §9 grammar (imap.syntax.responses). The check that needs mail
// delivered sends it through the seed server (Options.Seed) and deletes
// only that message, by UID. The suite never deletes mail it did not put
// there.
package imapsuite

import (
	"slices"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// catalogue is the suite, in order; built once, read-only afterwards.
var catalogue = func() []*engine.Check {
	var all []*engine.Check
	for _, group := range [][]*engine.Check{
		commandChecks, selectChecks, mailboxChecks, uidChecks, flagChecks, expungeChecks, consistencyChecks, syntaxChecks,
	} {
		all = append(all, group...)
	}
	for _, c := range all {
		c.Protocol = "imap"
	}
	// No spare capacity: a caller appending to the shared slice gets a
	// copy instead of writing into the catalogue.
	return slices.Clip(all)
}()

// Checks returns the IMAP suite, in catalogue order. The checks are shared:
// callers must not modify them.
func Checks() []*engine.Check { return catalogue }
