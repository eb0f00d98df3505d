package faultsmtp

import (
	"context"

	"github.com/mailcheck/mailcheck/reference/smtpserver"
	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
)

// backend is a smtpserver.Backend with one method changed: each nil
// field passes the call to next unchanged.
type backend struct {
	next         smtpserver.Backend
	authenticate func(next smtpserver.Backend, ctx context.Context, username, password string) (string, error)
	recipient    func(next smtpserver.Backend, ctx context.Context, conn *smtpserver.ConnInfo, rcpt smtpaddr.Mailbox) error
	deliver      func(next smtpserver.Backend, ctx context.Context, env *smtpserver.Envelope, message [][]byte) error
}

// Authenticate implements smtpserver.Backend.
func (b *backend) Authenticate(ctx context.Context, username, password string) (string, error) {
	if b.authenticate == nil {
		return b.next.Authenticate(ctx, username, password)
	}
	return b.authenticate(b.next, ctx, username, password)
}

// Recipient implements smtpserver.Backend.
func (b *backend) Recipient(ctx context.Context, conn *smtpserver.ConnInfo, rcpt smtpaddr.Mailbox) error {
	if b.recipient == nil {
		return b.next.Recipient(ctx, conn, rcpt)
	}
	return b.recipient(b.next, ctx, conn, rcpt)
}

// Deliver implements smtpserver.Backend.
func (b *backend) Deliver(ctx context.Context, env *smtpserver.Envelope, message [][]byte) error {
	if b.deliver == nil {
		return b.next.Deliver(ctx, env, message)
	}
	return b.deliver(b.next, ctx, env, message)
}

// wrapping makes a Fault.backend of a backend with next left unset.
func wrapping(b backend) func(smtpserver.Backend) smtpserver.Backend {
	return func(next smtpserver.Backend) smtpserver.Backend {
		w := b
		w.next = next
		return &w
	}
}
