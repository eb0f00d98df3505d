package fetch

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// MailboxOf returns the /MAILBOX of an IMAP URL (the IMAP URL scheme of
// RFC 5092), percent-decoded: "" for none, which is INBOX, and for a bare
// host:port.
func MailboxOf(raw string) (string, error) {
	if !strings.Contains(raw, "://") {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(u.Path, "/"), nil
}

// ParseSince reads Options.Since as a person writes it: a day
// (2026-01-31) or a duration before now (48h).
func ParseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q: want a day such as 2026-01-31 or a duration such as 48h", s)
}
