package pop3server

import (
	"context"
	"errors"
	"io"
)

// ErrAuthFailed is what Backend.Authenticate returns for bad credentials;
// the session answers "-ERR [AUTH] Authentication failed" (RFC 3206 §4),
// the same text for an unknown user and for a wrong password.
var ErrAuthFailed = errors.New("authentication failed")

// Backend decides who may log in and supplies maildrops. Its methods are
// called from many sessions at once.
type Backend interface {
	// Authenticate checks USER/PASS credentials; returns the canonical user
	// or ErrAuthFailed. With ErrAuthFailed it may return the canonical name
	// of an account that exists (a wrong password), for the log; the name
	// as given never is, as it may be a password typed into USER.
	Authenticate(ctx context.Context, username, password string) (user string, err error)
	// OpenMaildrop returns user's maildrop as it is now (a snapshot). The server holds the exclusive lock itself.
	OpenMaildrop(ctx context.Context, user string) (Maildrop, error)
}

// Maildrop is one user's maildrop for the length of one session. It is
// used by that session only.
type Maildrop interface {
	// Messages lists the maildrop at open time, in order; numbering in the session is index+1 and never changes.
	Messages() []MessageInfo
	// Open returns the message's content: the exact octets, CRLF line ends. An error (e.g. it was removed by another protocol meanwhile) gives -ERR.
	Open(uid string) (io.ReadCloser, error)
	// Delete removes the messages durably; called only in the UPDATE state (after QUIT), with every message marked deleted.
	Delete(uids []string) error
	// Close releases resources; called once when the session ends, whatever the state.
	Close() error
}

// MessageInfo describes one message of a maildrop.
type MessageInfo struct {
	// UID is the unique-id listing UIDL gives (RFC 1939 §7): 1 to 70
	// characters in 0x21-0x7E, unique in the maildrop and stable across
	// sessions.
	UID string
	// Size is the number of octets Open returns: what STAT and LIST report
	// and what RETR sends before byte-stuffing.
	Size int64
}
