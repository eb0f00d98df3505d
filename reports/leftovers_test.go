package reports

import (
	"strings"
	"testing"

	"github.com/mailcheck/mailcheck/conformance/verdict"
)

// TestLeftoversListed: the text output names each message the run left
// behind, by the header that finds it, and says nothing when none was.
func TestLeftoversListed(t *testing.T) {
	var b strings.Builder
	WriteLeftovers(&b, nil)
	if b.Len() != 0 {
		t.Errorf("no leftovers printed %q", b.String())
	}
	WriteLeftovers(&b, []verdict.Leftover{{Nonce: "abc123", Check: "smtp.pipelining.order", Via: "smtp://127.0.0.1:25", To: []string{"postmaster"}, Reason: "sent to postmaster, a mailbox the run cannot read"}})
	out := b.String()
	for _, want := range []string{"Left behind: 1 test message(s)", "X-Mailcheck-Nonce: abc123", "postmaster", "smtp.pipelining.order"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
}
