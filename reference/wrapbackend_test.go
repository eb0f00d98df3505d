package reference

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/reference/smtpserver"
	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// policy is an embedder's backend in front of the router: it refuses one
// recipient and counts the messages it passes on.
type policy struct {
	smtpserver.Backend
	delivered atomic.Int32
}

func (p *policy) Recipient(ctx context.Context, conn *smtpserver.ConnInfo, rcpt smtpaddr.Mailbox) error {
	if rcpt.Local == "blocked" {
		return smtpreply.NewReply(550, "5.7.1", "Refused by policy")
	}
	return p.Backend.Recipient(ctx, conn, rcpt)
}

func (p *policy) Deliver(ctx context.Context, env *smtpserver.Envelope, message [][]byte) error {
	p.delivered.Add(1)
	return p.Backend.Deliver(ctx, env, message)
}

// TestWrapSMTPBackend: the SMTP server hands recipients and messages to
// the wrapper, which decides or passes them on to the router.
func TestWrapSMTPBackend(t *testing.T) {
	p := &policy{}
	srv := startReferenceConfigured(t, "example.org", func(c *Config) {
		c.WrapSMTPBackend = func(b smtpserver.Backend) smtpserver.Backend {
			p.Backend = b
			return p
		}
	}, "bob:pw")
	c := dialSMTP(t, srv.SMTPAddr())
	c.cmd("EHLO client.example", 250)
	c.cmd("MAIL FROM:<a@example.net>", 250)
	if r := c.cmd("RCPT TO:<blocked@example.org>", 550); !strings.Contains(r.String(), "policy") {
		t.Errorf("the wrapper's refusal did not reach the client: %s", r)
	}
	c.cmd("RSET", 250)
	c.sendMessage("a@example.net", []string{"bob@example.org"}, "Subject: wrapped\r\n\r\nbody\r\n")
	if n := p.delivered.Load(); n != 1 {
		t.Errorf("the wrapper saw %d messages, want 1", n)
	}
	waitFor(t, 5*time.Second, "the message in bob's mailbox", func() bool { return len(mailbox(t, srv.Store(), "bob")) == 1 })
}
