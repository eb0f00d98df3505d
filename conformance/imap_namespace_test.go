package conformance

import (
	"regexp"
	"strings"
	"testing"
)

// The personal namespace "INBOX." with "." as delimiter, as Courier and
// Cyrus have it: a proxy in front of the reference server (whose personal
// namespace is the top level) announces it, refuses a CREATE outside it
// and maps "INBOX.x" to the server's "x" and back.
var (
	createOutside = regexp.MustCompile(`^(\S+) (?i:CREATE) "?([^"\r\n]*)"?\r\n$`)
	inboxPrefixed = regexp.MustCompile(`(?i)\bINBOX\.(mailcheck-)`)
	listedName    = regexp.MustCompile(`(^\* (?:LIST|LSUB|STATUS) .*?[ "])(mailcheck-)`)
	namespaceLine = regexp.MustCompile(`^\* NAMESPACE `)
	namespaceCaps = regexp.MustCompile(`(?i) (NAMESPACE|IMAP4rev2)\b`)
)

// inboxNamespace is the proxy; announce=false hides NAMESPACE (and
// IMAP4rev2, which implies it), leaving the client only LIST "" "".
func inboxNamespace(announce bool) imapProof {
	return imapProof{wire: &wireFault{
		Client: func(l string) (bool, string) {
			if m := createOutside.FindStringSubmatch(l); m != nil && !strings.HasPrefix(strings.ToUpper(m[2]), "INBOX.") {
				return false, m[1] + " NO [NOPERM] Permission denied: mailboxes live under INBOX.\r\n"
			}
			return true, ""
		},
		Rewrite: func(l string) string { return inboxPrefixed.ReplaceAllString(l, "$1") },
		Server: func(_ int, l string) []string {
			switch {
			case namespaceLine.MatchString(l):
				l = "* NAMESPACE ((\"INBOX.\" \".\")) NIL NIL\r\n"
			case listedName.MatchString(l):
				l = listedName.ReplaceAllString(l, "${1}INBOX.$2")
			case !announce && strings.Contains(l, "CAPABILITY"):
				l = namespaceCaps.ReplaceAllString(l, "")
			}
			return []string{l}
		},
	}}
}

// transparent is a proxy that alters nothing but what every proxy does
// (STARTTLS hidden, LOGIN in clear text): the baseline for proxied runs.
var transparent = imapProof{wire: &wireFault{}}

// verdicts runs the IMAP suite against p and returns each check's result;
// the suite must leave no mailbox behind.
func verdicts(t *testing.T, p imapProof) map[string]Result {
	t.Helper()
	target, opts, srv := startIMAPServer(t, p)
	opts.Only = []string{"imap.*"}
	out := map[string]Result{}
	for _, r := range runIMAP(t, target, opts).Checks {
		out[r.ID] = r
	}
	if left := leftovers(t, srv); len(left) > 0 {
		t.Errorf("mailboxes left behind: %v", left)
	}
	return out
}

// TestIMAPSuiteUnderInboxNamespace: with personal mailboxes under
// "INBOX.", the suite reaches the verdicts it reaches on the reference
// server: no error, no check failing for a mailbox it could not create.
func TestIMAPSuiteUnderInboxNamespace(t *testing.T) {
	t.Parallel()
	want := verdicts(t, transparent)
	got := verdicts(t, inboxNamespace(true))
	inside := 0
	for _, r := range got {
		if strings.Contains(transcriptOf(r), "CREATE INBOX.mailcheck-") {
			inside++
		}
	}
	if inside < 10 {
		t.Errorf("%d checks created their mailbox under INBOX.", inside)
	}
	for id, w := range want {
		g := got[id]
		if g.Status == Error || g.Status != w.Status {
			t.Errorf("%s: %s (%s) under the INBOX. namespace, %s on the reference\n%s", id, g.Status, g.Message, w.Status, transcriptOf(g))
		}
	}
}

// TestIMAPRefusedCreateIsAPrecondition: a server that refuses the top
// level and does not say where mailboxes go (no NAMESPACE) makes the
// checks that need a mailbox of their own skip, quoting the refusal; none
// fails or errors.
func TestIMAPRefusedCreateIsAPrecondition(t *testing.T) {
	t.Parallel()
	skipped := 0
	for id, r := range verdicts(t, inboxNamespace(false)) {
		switch {
		case r.Status == Error || r.Status == Fail || r.Status == Warn:
			t.Errorf("%s: %s (%s)\n%s", id, r.Status, r.Message, transcriptOf(r))
		case r.Status == Skip && strings.Contains(r.Message, "precondition: CREATE"):
			skipped++
			if !strings.Contains(r.Message, "Permission denied") {
				t.Errorf("%s: %s, without the server's reply", id, r.Message)
			}
		}
	}
	if skipped < 10 {
		t.Errorf("%d checks skipped for the refused CREATE; most IMAP checks need a mailbox of their own", skipped)
	}
}
