package session

import (
	"fmt"
	"io"
	"time"

	"github.com/mailcheck/mailcheck/agent/transcript"
	"github.com/mailcheck/mailcheck/target"
)

// Settings are a session's Options as the send and fetch commands' flags
// give them: the login (Login, completed from the target URL), the
// STARTTLS policy by name, TLS verification and the transcript's writer.
// The words of its errors are those flags'.
type Settings struct {
	Login
	// StartTLS is a ParseStartTLS name.
	StartTLS string
	// SkipVerify does not verify the server's certificate; CAFile, a PEM
	// file, verifies it against its CAs rather than the system's.
	SkipVerify bool
	CAFile     string
	// Timeout bounds every wait; it must be more than 0.
	Timeout time.Duration
	// Transcript, when not nil, gets the session's transcript, message
	// data summarised unless Verbose.
	Transcript io.Writer
	Verbose    bool
}

// Options returns the session options for t.
func (s Settings) Options(t target.Target) (Options, error) {
	o := Options{Target: t, Timeout: s.Timeout}
	login := s.Login
	login.URLUser, login.URLPassword = t.User, t.Password
	var err error
	if o.User, o.Password, err = login.Resolve(); err != nil {
		return o, err
	}
	if s.Timeout <= 0 {
		return o, fmt.Errorf("--timeout %v: want more than 0", s.Timeout)
	}
	if o.StartTLS, err = ParseStartTLS(s.StartTLS); err != nil {
		return o, err
	}
	if o.TLS, err = target.ClientTLS(s.SkipVerify, s.CAFile); err != nil {
		return o, fmt.Errorf("--ca: %w", err)
	}
	if s.Transcript != nil {
		o.Transcript = transcript.New(s.Transcript, s.Verbose)
	}
	return o, nil
}
