package smtpsuite

import (
	"encoding/base64"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// catalogue is the suite, in order; built once, read-only afterwards.
var catalogue = func() []*engine.Check {
	var all []*engine.Check
	for _, group := range [][]*engine.Check{
		greetingChecks, syntaxChecks, commandChecks, sequenceChecks, dataChecks, smugglingChecks, eightBitChecks, integrityChecks,
		limitChecks, pipeliningChecks, startTLSChecks, authChecks, extensionChecks, policyChecks,
	} {
		all = append(all, group...)
	}
	for _, c := range all {
		c.Protocol = "smtp"
	}
	return all
}()

// Checks returns the SMTP suite, in catalogue order. The checks are shared:
// callers must not modify them.
func Checks() []*engine.Check { return catalogue }

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
