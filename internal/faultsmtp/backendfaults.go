package faultsmtp

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/reference/smtpserver"
	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// Faults in the backend: whom the server takes mail for, whom it lets in,
// what it stores.

// RefusePostmaster refuses postmaster, with or without a domain
// (smtp.postmaster.bare, smtp.postmaster.domain).
var RefusePostmaster = &Fault{backend: wrapping(backend{recipient: func(next smtpserver.Backend, ctx context.Context, conn *smtpserver.ConnInfo, rcpt smtpaddr.Mailbox) error {
	if strings.EqualFold(rcpt.Local, "postmaster") {
		return smtpreply.NewReply(550, "5.1.1", "<%s>: No such user here", rcpt)
	}
	return next.Recipient(ctx, conn, rcpt)
}})}

// UnknownRecipient501 answers an unknown local recipient 501, a syntax
// error, instead of 550 (smtp.rcpt.unknown-user).
var UnknownRecipient501 = &Fault{backend: wrapping(backend{recipient: func(next smtpserver.Backend, ctx context.Context, conn *smtpserver.ConnInfo, rcpt smtpaddr.Mailbox) error {
	err := next.Recipient(ctx, conn, rcpt)
	var r *smtpreply.Reply
	if errors.As(err, &r) && r.Code == 550 {
		return smtpreply.NewReply(501, "5.1.3", "Bad recipient address syntax")
	}
	return err
}})}

// OpenRelay lets unauthenticated clients relay (smtp.relay.refused): the
// backend takes every client for an authenticated one.
var OpenRelay = &Fault{backend: wrapping(backend{recipient: func(next smtpserver.Backend, ctx context.Context, conn *smtpserver.ConnInfo, rcpt smtpaddr.Mailbox) error {
	relayed := *conn
	relayed.User = "open-relay"
	return next.Recipient(ctx, &relayed, rcpt)
}})}

// AuthRefusesAll refuses every password (smtp.auth.success).
var AuthRefusesAll = &Fault{backend: wrapping(backend{authenticate: func(next smtpserver.Backend, ctx context.Context, username, password string) (string, error) {
	user, _ := next.Authenticate(ctx, username, password)
	return user, smtpserver.ErrAuthFailed
}})}

// AuthAcceptsAll takes any password (smtp.auth.bad-credentials).
var AuthAcceptsAll = &Fault{backend: wrapping(backend{authenticate: func(next smtpserver.Backend, ctx context.Context, username, password string) (string, error) {
	next.Authenticate(ctx, username, password)
	return username, nil
}})}

// NoReceivedHeader adds no trace header (smtp.received.added): the
// backend stores the message without the Received field the server put
// on top.
var NoReceivedHeader = &Fault{backend: wrapping(backend{deliver: func(next smtpserver.Backend, ctx context.Context, env *smtpserver.Envelope, message [][]byte) error {
	return next.Deliver(ctx, env, [][]byte{withoutTrace(bytes.Join(message, nil))})
}})}

// withoutTrace is msg without its first field, a Received field with its
// folded lines (RFC 5322 §2.2.3).
func withoutTrace(msg []byte) []byte {
	if !bytes.HasPrefix(msg, []byte("Received:")) {
		return msg
	}
	for i := bytes.Index(msg, []byte("\r\n")); i >= 0; {
		rest := msg[i+2:]
		if len(rest) == 0 || rest[0] != ' ' && rest[0] != '\t' {
			return rest
		}
		next := bytes.Index(rest, []byte("\r\n"))
		if next < 0 {
			break
		}
		i += 2 + next
	}
	return msg
}

// DeliverAfter answers 250 at the end of data and delivers the message
// only d later: a slow delivery, not a fault (the read-back must wait for
// it: smtp.received.added passes).
func DeliverAfter(d time.Duration) *Fault {
	return &Fault{backend: wrapping(backend{deliver: func(next smtpserver.Backend, ctx context.Context, env *smtpserver.Envelope, message [][]byte) error {
		msg := [][]byte{bytes.Join(message, nil)} // the server reuses its buffer
		ctx = context.WithoutCancel(ctx)
		time.AfterFunc(d, func() { next.Deliver(ctx, env, msg) })
		return nil
	}})}
}

// StripHighBit takes 8-bit data with or without BODY=8BITMIME and clears
// the high bit of every octet it stores (smtp.8bit.without-8bitmime,
// smtp.8bitmime.preserved): the server gets BODY=8BITMIME on every MAIL
// after EHLO, the backend stores seven bits.
var StripHighBit = &Fault{
	command: func(c *conn, cmd *command) bool {
		if path, params, _, ok := mailPath(cmd); ok && c.esmtp {
			withParams(cmd, path, params, func(key, _ string) bool { return key != "BODY" }, "BODY=8BITMIME")
		}
		return false
	},
	backend: wrapping(backend{deliver: func(next smtpserver.Backend, ctx context.Context, env *smtpserver.Envelope, message [][]byte) error {
		msg := bytes.Join(message, nil)
		for i := range msg {
			msg[i] &= 0x7f
		}
		return next.Deliver(ctx, env, [][]byte{msg})
	}}),
}
