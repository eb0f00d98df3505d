package load

import (
	"context"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/reference"
	"github.com/mailcheck/mailcheck/target"
)

// TestAccuracyAgainstReference: every message the generator reports
// accepted is in the reference server's mailboxes, and no other.
func TestAccuracyAgainstReference(t *testing.T) {
	srv, _, err := reference.StartLoopback(func(c *reference.Config) { c.SMTP.InsecureAuth = true })
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	target, _ := target.ParseTarget("smtp://"+srv.SMTPAddr(), "")
	for _, pipelining := range []Pipelining{PipeliningOff, PipeliningOn} {
		t.Run(string(pipelining), func(t *testing.T) {
			before := mailboxCount(t, srv)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			res, err := Run(ctx, Options{
				Target: target, Sessions: 4, Messages: 300, Pipelining: pipelining, Size: SizeSpec{500, 3000},
				To: "bob@" + reference.LoopbackDomain, StartTLS: "off", MessagesPerSession: 50,
			}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Accepted != 300 || res.Failed != 0 || res.Sent != 300 {
				t.Fatalf("sent %d accepted %d failed %d (errors %+v)", res.Sent, res.Accepted, res.Failed, res.Errors)
			}
			if got := mailboxCount(t, srv) - before; got != int(res.Accepted) {
				t.Errorf("generator says %d accepted, the mailbox got %d", res.Accepted, got)
			}
			tx := res.Phases[PhaseTransaction]
			if tx == nil || tx.Count != 300 || tx.P["99"] <= 0 {
				t.Errorf("transaction latency %+v", tx)
			}
		})
	}
}

func mailboxCount(t *testing.T, srv *reference.Server) int {
	t.Helper()
	mb, err := srv.Store().Inbox("bob")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := mb.Messages()
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}
