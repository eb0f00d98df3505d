// Package session holds what the user agent's SMTP, POP3 and IMAP sessions
// share: a line connection that records a transcript and bounds every wait,
// the STARTTLS policy, and the stage of a session in which a failure
// happened, so that a CI script can tell what broke from the exit code.
package session

import (
	"errors"
	"fmt"
)

// Stage names a step of a session.
type Stage string

// The stages, in the order a session goes through them. SMTP submission
// uses Connect to Data; POP3 and IMAP retrieval use Connect, Greeting, TLS,
// Auth, then Mailbox, Retrieve and Delete.
const (
	Connect  Stage = "connect"  // TCP connection
	Greeting Stage = "greeting" // the server's first reply
	EHLO     Stage = "ehlo"     // EHLO/HELO and the extensions asked for
	TLS      Stage = "tls"      // STARTTLS/STLS or the implicit-TLS handshake
	Auth     Stage = "auth"     // SMTP AUTH, POP3 USER/PASS, IMAP LOGIN
	Mail     Stage = "mail"     // SMTP MAIL FROM
	Rcpt     Stage = "rcpt"     // SMTP RCPT TO
	Data     Stage = "data"     // SMTP DATA, the message, the final reply
	Mailbox  Stage = "mailbox"  // POP3 STAT/LIST/UIDL/TOP, IMAP SELECT/SEARCH/FETCH of headers
	Retrieve Stage = "retrieve" // POP3 RETR, IMAP FETCH BODY.PEEK[]
	Delete   Stage = "delete"   // POP3 DELE and QUIT, IMAP STORE \Deleted and EXPUNGE
)

// Error is a failure in a stage of a session.
type Error struct {
	Stage Stage
	Err   error
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %v", e.Stage, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// Fail wraps err as a failure in stage; nil stays nil, and an error that
// already carries a stage keeps it.
func Fail(stage Stage, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Stage: stage, Err: err}
}

// Failf is Fail with a formatted error.
func Failf(stage Stage, format string, args ...any) error {
	return &Error{Stage: stage, Err: fmt.Errorf(format, args...)}
}

// StageOf returns the stage err happened in, or "" when it carries none.
func StageOf(err error) Stage {
	var e *Error
	if errors.As(err, &e) {
		return e.Stage
	}
	return ""
}
