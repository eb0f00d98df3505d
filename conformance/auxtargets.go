package conformance

import (
	"fmt"

	"github.com/mailcheck/mailcheck/target"
)

// ParseReadback reads Options.Readback: the POP3 or IMAP mailbox, with its
// login in the URL, where mail to Options.Rcpt arrives. Errors show the
// URL with its password hidden.
func ParseReadback(raw string) (*target.Target, error) {
	t, err := target.ParseTarget(raw, "")
	if err != nil || t.Protocol == "smtp" || t.User == "" {
		return nil, fmt.Errorf("%q: want pop3://user:pass@host:port or imap://user:pass@host:port", target.RedactURL(raw))
	}
	return &t, nil
}

// ParseSeed reads Options.Seed: the SMTP server that delivers to the
// POP3 or IMAP target's mailbox. Errors show the URL with its password
// hidden.
func ParseSeed(raw string) (*target.Target, error) {
	t, err := target.ParseTarget(raw, "")
	if err != nil || t.Protocol != "smtp" {
		return nil, fmt.Errorf("%q: want smtp://host:port", target.RedactURL(raw))
	}
	return &t, nil
}
