// Package imapsuite is the IMAP conformance suite: RFC 9051 (IMAP4rev2)
// and RFC 3501 (IMAP4rev1).
package imapsuite

import "github.com/mailcheck/mailcheck/conformance/engine"

var catalogue = func() []*engine.Check {
	var all []*engine.Check
	for _, c := range all {
		c.Protocol = "imap"
	}
	return all
}()

// Checks returns the IMAP suite, in catalogue order. The checks are shared:
// callers must not modify them.
func Checks() []*engine.Check { return catalogue }
