// Package pop3suite is the POP3 conformance suite: RFC 1939, RFC 2449
// (CAPA, RESP-CODES, PIPELINING) and RFC 2595 (STLS).
package pop3suite

import "github.com/mailcheck/mailcheck/conformance/engine"

var catalogue = func() []*engine.Check {
	var all []*engine.Check
	for _, group := range [][]*engine.Check{
		basicChecks, stateChecks, listingChecks, contentChecks, updateChecks, uidlChecks, lockChecks, stlsChecks, syntaxChecks,
	} {
		all = append(all, group...)
	}
	for _, c := range all {
		c.Protocol = "pop3"
	}
	return all
}()

// Checks returns the POP3 suite, in catalogue order. The checks are shared:
// callers must not modify them.
func Checks() []*engine.Check { return catalogue }
