package smtpserver

import (
	"context"
	"errors"
	"net"

	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
)

// ErrAuthFailed is what Backend.Authenticate returns for bad credentials;
// the session answers 535 5.7.8 (RFC 4954 §6).
var ErrAuthFailed = errors.New("authentication failed")

// Backend decides what happens to mail. Its methods are called from many
// sessions at once.
type Backend interface {
	// Authenticate checks a user name and password from AUTH PLAIN or LOGIN
	// and returns the canonical user name. With ErrAuthFailed it may
	// return the canonical name of an account that exists (a wrong
	// password), for the log; the name as given never is, as it may be a
	// password typed into the wrong field.
	Authenticate(ctx context.Context, username, password string) (user string, err error)
	// Recipient accepts (nil) or refuses a RCPT. A refusal is a
	// *smtpreply.Reply, sent to the client as is; any other error gives 451.
	// The postmaster with no domain (RFC 5321 §4.5.1) comes as Local
	// "postmaster" and an empty Domain.
	Recipient(ctx context.Context, conn *ConnInfo, rcpt smtpaddr.Mailbox) error
	// Deliver stores or queues an accepted message for all its recipients.
	// It must return nil only when the message is on stable storage: the
	// server answers 250 then, and a 250 is a promise not to lose it
	// (RFC 5321 §6.1). A *smtpreply.Reply is sent as is; an error wrapping
	// ENOSPC or EDQUOT gives 452 4.3.1, any other 451 4.3.0 (see
	// storageReply).
	Deliver(ctx context.Context, env *Envelope, message [][]byte) error
}

// ConnInfo describes the client side of a session.
type ConnInfo struct {
	ID         string // session id, also in the Received header
	RemoteAddr net.Addr
	Helo       string // EHLO/HELO argument
	ESMTP      bool   // EHLO (not HELO) was used
	TLS        bool
	User       string // authenticated user, "" if none
}

// Envelope is one accepted transaction.
type Envelope struct {
	Conn ConnInfo
	// From is the reverse-path, "" for the null path <>.
	From string
	// Recipients are the accepted forward-paths, in RCPT order.
	Recipients []string
	// Body8BitMIME is set when MAIL carried BODY=8BITMIME (RFC 6152).
	Body8BitMIME bool
}
