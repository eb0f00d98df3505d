package faultsmtp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/conformance"
)

// passThrough is a proxy that alters nothing: every command, reply and
// message passes as it came, through STARTTLS and AUTH.
var passThrough = &Fault{reply: func(*conn, *command, *reply) {}}

// TestPassThroughFailsNothing: the SMTP catalogue and the end-to-end
// checks pass through a proxy that alters nothing, so whatever a fault
// fails is the fault's doing, not the proxy's.
func TestPassThroughFailsNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	report, err := conformance.RunEmbedded(ctx, conformance.Options{Only: []string{"smtp.*", "e2e.*"}}, passThrough.Configure)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Checks) < 60 {
		t.Errorf("%d checks ran", len(report.Checks))
	}
	for _, r := range report.Checks {
		skipped := r.Status == conformance.Skip && r.ID == "smtp.smtputf8.implies-8bitmime" // no SMTPUTF8 offered
		if r.Status != conformance.Pass && !skipped {
			t.Errorf("%s: %s (%s)", r.ID, r.Status, r.Message)
		}
	}
}

// TestFaultShowsThroughTheProxy: one fault of each kind (a reply, a
// command answered in the server's stead, the end of data, a backend)
// fails its check through the proxy, and the check passes without it.
func TestFaultShowsThroughTheProxy(t *testing.T) {
	for check, f := range map[string]*Fault{
		"smtp.greeting.code":          GreetingCode(200),
		"smtp.rset.ok":                RSETMissing,
		"smtp.data.cr-dot-cr":         EndOfData("\r.\r"),
		"smtp.postmaster.bare":        RefusePostmaster,
		"smtp.starttls.no-injection":  STARTTLSRunsPlaintext,
		"smtp.sequence.ehlo-resets":   EHLOKeeps,
		"smtp.auth.twice":             AuthTwice,
		"smtp.content.long-line-1500": TruncateLongLines,
	} {
		t.Run(check, func(t *testing.T) {
			t.Parallel()
			if got := only(t, check, f); got.Status != conformance.Fail {
				t.Errorf("against the fault: %s (%s), want fail", got.Status, got.Message)
			}
			if got := only(t, check, passThrough); got.Status != conformance.Pass {
				t.Errorf("through the proxy alone: %s (%s), want pass", got.Status, got.Message)
			}
		})
	}
}

func only(t *testing.T, check string, f *Fault) conformance.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	report, err := conformance.RunEmbedded(ctx, conformance.Options{Only: []string{check}}, f.Configure)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Checks) != 1 {
		t.Fatalf("%d results", len(report.Checks))
	}
	return report.Checks[0]
}

// TestWithoutTrace: the Received field goes, folded lines and all, and
// the rest of the message stays.
func TestWithoutTrace(t *testing.T) {
	msg := "Received: from a\r\n\tby b;\r\n\tdate\r\nSubject: x\r\n\r\nbody\r\n"
	if got := string(withoutTrace([]byte(msg))); got != "Subject: x\r\n\r\nbody\r\n" {
		t.Errorf("%q", got)
	}
	if got := string(withoutTrace([]byte("Subject: x\r\n\r\n"))); !strings.HasPrefix(got, "Subject") {
		t.Errorf("%q", got)
	}
}
