package conformance

import (
	"strings"
	"testing"

	"github.com/mailcheck/mailcheck/internal/faultpop3"
)

// Malformed responses are called malformed by a syntax check of their own,
// quoting the line and the rule, and the check that needed what they
// announce says "malformed", not "missing" (issue 13, class 8).

func TestPOP3MalformedCapaIsCalledMalformed(t *testing.T) {
	for _, c := range []struct {
		name   string
		fault  *faultpop3.Fault
		quote  string // in pop3.capa.syntax's message
		rule   string
		needer string // a check that needs the spoilt capability, "" for none
	}{
		{"misspelled tag", faultpop3.CAPAMisspelled, `"RESP_CODES"`, "tag is spelled RESP-CODES", "pop3.lock.in-use-code"},
		{"one letter too many", faultpop3.CAPAExtraLine("UIDLL"), `"UIDLL"`, "tag is spelled UIDL", ""},
		{"malformed argument", faultpop3.CAPAExtraLine("LOGIN-DELAY soon"), `"LOGIN-DELAY soon"`, "RFC 2449 §6.5", ""},
		{"malformed EXPIRE policy", faultpop3.CAPAExtraLine("EXPIRE never-ever"), `"EXPIRE never-ever"`, "RFC 2449 §6.7", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			results := runPOP3(t, c.fault.Configure, Options{})
			syntax := results["pop3.capa.syntax"]
			if syntax.Status != Fail || !strings.Contains(syntax.Message, c.quote) || !strings.Contains(syntax.Message, c.rule) {
				t.Errorf("pop3.capa.syntax: %s (%s), want fail quoting %s and %q", syntax.Status, syntax.Message, c.quote, c.rule)
			}
			if c.needer != "" {
				r := results[c.needer]
				if r.Status != Skip || !strings.Contains(r.Message, "malformed") || strings.Contains(r.Message, "not in CAPA") {
					t.Errorf("%s: %s (%s), want a skip that calls the capability malformed", c.needer, r.Status, r.Message)
				}
			}
			for _, bad := range badVerdicts(results, map[string]bool{"pop3.capa.syntax": true}) {
				t.Errorf("another check: %s", bad)
			}
		})
	}
}

func TestPOP3ResponseCodeAfterTextIsMalformed(t *testing.T) {
	results := runPOP3(t, faultpop3.RespCodeAfterText.Configure, Options{})
	syntax := results["pop3.resp-codes.syntax"]
	if syntax.Status != Fail || !strings.Contains(syntax.Message, "right after the status") || !strings.Contains(syntax.Message, "[") {
		t.Errorf("pop3.resp-codes.syntax: %s (%s), want fail quoting the line and the rule", syntax.Status, syntax.Message)
	}
	if r := results["pop3.lock.in-use-code"]; r.Status != Skip || !strings.Contains(r.Message, "malformed") {
		t.Errorf("pop3.lock.in-use-code: %s (%s), want a skip that calls the code malformed, not missing", r.Status, r.Message)
	}
	for _, bad := range badVerdicts(results, map[string]bool{"pop3.resp-codes.syntax": true}) {
		t.Errorf("another check: %s", bad)
	}
}

// TestPOP3ReadBackAppendingCRLFIsFailed: a POP3 server that adds a CRLF to
// every message RETR sends is failed by the POP3 suite, by the checks
// whose subject that breaks, and by no other.
func TestPOP3ReadBackAppendingCRLFIsFailed(t *testing.T) {
	results := runPOP3(t, faultpop3.RETRAppendsCRLF.Configure, Options{})
	for _, id := range []string{"pop3.list.matches-retr", "e2e.pop3.byte-identical"} {
		if r := results[id]; r.Status != Fail {
			t.Errorf("%s: %s (%s), want fail", id, r.Status, r.Message)
		}
	}
	allowed := map[string]bool{"pop3.list.matches-retr": true, "e2e.pop3.byte-identical": true}
	for _, bad := range badVerdicts(results, allowed) {
		t.Errorf("another check: %s", bad)
	}
}
