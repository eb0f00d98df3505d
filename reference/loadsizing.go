package reference

import (
	"crypto/tls"
	"fmt"
	"os"
	"time"

	"github.com/mailcheck/mailcheck/reference/smtpserver"
)

// LoadSizing is what a load run needs of the embedded server
// (StartForLoad): room for its sessions, recipients and messages, and an
// account to log in with.
type LoadSizing struct {
	// Sessions, Recipients per message and MessageBytes (the largest
	// message) of the run; the server's limits rise to take them.
	Sessions, Recipients int
	MessageBytes         int
	// User and Password, when User is set, are an account added for AUTH;
	// InsecureAuth lets it log in without STARTTLS.
	User, Password string
	InsecureAuth   bool
}

// AccountError is StartForLoad's error for an account the server cannot
// hold (an invalid user name): the caller's mistake, not the server's.
type AccountError struct {
	User string
	Err  error
}

// Error names the account and what is wrong with it.
func (e *AccountError) Error() string { return fmt.Sprintf("account %q: %v", e.User, e.Err) }

// Unwrap returns what is wrong with the account.
func (e *AccountError) Unwrap() error { return e.Err }

// loadJournalBytes is the embedded server's journal under load: enough to
// group-commit the deliveries of many sessions at once.
const loadJournalBytes = 32 << 20

// StartForLoad starts the loopback reference server (StartLoopback) for
// SMTP only, sized for a load run: room for every session and recipient
// and the largest message (never below the defaults), a short AUTH failure
// delay (the run measures the server, not its defence against password
// guessers), and the account of s.User. The caller closes the server and
// removes its DataDir.
func StartForLoad(s LoadSizing) (*Server, *tls.Config, error) {
	var userErr error
	srv, trust, err := StartLoopback(func(c *Config) {
		c.POP3Addr, c.IMAPAddr = "", ""
		c.SMTP.MaxConnections = max(smtpserver.DefaultMaxConnections, s.Sessions+10)
		c.SMTP.MaxRecipients = max(smtpserver.DefaultMaxRecipients, s.Recipients)
		c.SMTP.MaxMessageBytes = max(smtpserver.DefaultMaxMessageBytes, int64(s.MessageBytes)+64<<10)
		c.SMTP.AuthFailureDelay = time.Millisecond
		c.JournalBytes = loadJournalBytes
		if s.User != "" {
			userErr = c.Users.Add(s.User, s.Password)
			c.SMTP.InsecureAuth = s.InsecureAuth
		}
	})
	if err != nil {
		return nil, nil, err
	}
	if userErr != nil {
		srv.Close()
		os.RemoveAll(srv.DataDir())
		return nil, nil, &AccountError{User: s.User, Err: userErr}
	}
	return srv, trust, nil
}
