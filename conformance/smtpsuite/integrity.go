package smtpsuite

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/readback"
)

// Content a server may refuse but must not damage. RFC 5321 §4.5.3.1
// lets a server refuse objects over its limits (a text line over 1000
// octets with its CRLF, §4.5.3.1.6): the client "MUST be prepared for a
// server to reject them". What it accepts, it takes responsibility for
// (§6.1), and it MUST NOT act upon the header or body beyond adding its
// trace fields (§3.6.3, §4.4). So each of these messages must be refused
// (5xx at the end of data) or read back byte-identical: a line cut short,
// a "From " line quoted as in an mbox, a header line refolded is silent
// damage.
var integrityChecks = []*engine.Check{
	{
		ID: "smtp.content.long-line-1500", Title: "A 1,500-octet text line is refused or delivered intact, never cut (read back)", Spec: "RFC 5321 §4.5.3.1, §3.6.3", Level: engine.Must, ReadsBack: true,
		Run: func(ctx context.Context, t *engine.T) error {
			return refusedOrIntact(ctx, t, "long-line-1500", "", "before\r\n"+longLine(1500)+"\r\nafter\r\n")
		},
	},
	{
		ID: "smtp.content.long-line-5000", Title: "A 5,000-octet text line is refused or delivered intact, never cut (read back)", Spec: "RFC 5321 §4.5.3.1, §3.6.3", Level: engine.Must, ReadsBack: true,
		Run: func(ctx context.Context, t *engine.T) error {
			return refusedOrIntact(ctx, t, "long-line-5000", "", "before\r\n"+longLine(5000)+"\r\nafter\r\n")
		},
	},
	{
		ID: "smtp.content.from-line", Title: "A body line starting \"From \" arrives as sent, not quoted \">From \" (read back)", Spec: "RFC 5321 §3.6.3; RFC 4155", Level: engine.Must, ReadsBack: true,
		Run: func(ctx context.Context, t *engine.T) error {
			// An mbox store separates messages with "From " lines and
			// quotes such body lines; the quoting is the store's, never
			// the message's (RFC 4155), so it must not show.
			return refusedOrIntact(ctx, t, "from-line", "", "Hello,\r\nFrom here on, the line starts with \"From \".\r\n>From this one too, quoted by its author.\r\n")
		},
	},
	{
		ID: "smtp.content.long-header-line", Title: "A 1,500-octet header line is refused or delivered intact, never refolded or cut (read back)", Spec: "RFC 5321 §4.5.3.1, §3.6.3; RFC 5322 §2.1.1", Level: engine.Must, ReadsBack: true,
		Run: func(ctx context.Context, t *engine.T) error {
			// RFC 5322 §2.1.1 limits lines to 998 octets: a server may
			// refuse this one; refolding it changes the field.
			return refusedOrIntact(ctx, t, "long-header-line", "X-Mailcheck-Long: "+longWords(1500-len("X-Mailcheck-Long: ")), "body\r\n")
		},
	},
}

// refusedOrIntact sends a test message (with field in its header when not
// empty) and passes a refusal at the end of data; a message accepted must
// read back intact (readback.Compare).
func refusedOrIntact(ctx context.Context, t *engine.T, id, field, body string) error {
	if !needRcpt(t) {
		return nil
	}
	sent, n, r, err := sendTestMessage(ctx, t, id, "", field, body)
	if r == nil || err != nil {
		return err
	}
	switch {
	case r.Code/100 == 5:
		t.Pass("refused: %s", r)
		return nil
	case r.Code != 250:
		// A temporary refusal (4xx) says neither yes nor no.
		return fmt.Errorf("end of data got %s, neither accepted nor refused", r)
	case t.Options.Readback == nil:
		t.SkipNow("accepted; judging whether it was stored intact needs a read-back mailbox (--readback)")
	}
	readBackTrusted(ctx, t)
	got, err := readback.Wait(ctx, t, *t.Options.Readback, n)
	if err != nil || got == nil {
		return err
	}
	if d := readback.Compare([]byte(sent), got); d != "" {
		t.FailNow("accepted, then stored altered (a server must refuse what it cannot keep intact): %s", d)
	}
	t.Pass("accepted and delivered intact")
	return nil
}

// longLine is a text line of n octets whose digits show where it was cut.
func longLine(n int) string {
	return strings.Repeat("0123456789", n/10+1)[:n]
}

// longWords is a header field body of n octets, words a server could
// fold between.
func longWords(n int) string {
	return strings.Repeat("folding words ", n/14+1)[:n]
}
