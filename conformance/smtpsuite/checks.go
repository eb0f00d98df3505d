package smtpsuite

import (
	"encoding/base64"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// Checks returns the SMTP suite, in catalogue order.
func Checks() []*engine.Check {
	var all []*engine.Check
	for _, group := range [][]*engine.Check{
		greetingChecks, commandChecks, sequenceChecks, dataChecks, eightBitChecks,
		limitChecks, pipeliningChecks, startTLSChecks, authChecks, extensionChecks, policyChecks,
	} {
		all = append(all, group...)
	}
	for _, c := range all {
		c.Protocol = "smtp"
	}
	return all
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
