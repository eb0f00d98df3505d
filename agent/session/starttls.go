package session

import "fmt"

// StartTLS is when a session on a plain connection upgrades it with
// STARTTLS (SMTP, RFC 3207; IMAP, RFC 9051 §6.2.1) or STLS (POP3, RFC 2595).
type StartTLS string

// The policies. The names of mailcheck load (on, off) are accepted too.
const (
	// StartTLSAuto upgrades when the server offers it.
	StartTLSAuto StartTLS = "auto"
	// StartTLSAlways upgrades or fails: a server that does not offer it
	// is a failure in the TLS stage, and nothing (no password) is sent.
	StartTLSAlways StartTLS = "always"
	// StartTLSNever stays in plain text.
	StartTLSNever StartTLS = "never"
)

// ParseStartTLS parses a --starttls value.
func ParseStartTLS(s string) (StartTLS, error) {
	switch s {
	case "", "auto":
		return StartTLSAuto, nil
	case "always", "on":
		return StartTLSAlways, nil
	case "never", "off":
		return StartTLSNever, nil
	}
	return "", fmt.Errorf("--starttls %q: want auto, always or never", s)
}

// Wanted reports whether to upgrade, given whether the server offers
// command (STARTTLS or STLS); an error in the TLS stage when the policy
// requires TLS the server does not offer.
func (p StartTLS) Wanted(offered bool, command string) (bool, error) {
	switch p {
	case StartTLSNever:
		return false, nil
	case StartTLSAlways:
		if !offered {
			return false, Failf(TLS, "the server does not offer %s and --starttls always requires it", command)
		}
		return true, nil
	}
	return offered, nil
}
