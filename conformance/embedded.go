package conformance

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/reference"
)

// Embedded describes the reference server RunEmbedded starts
// (reference.StartLoopback): its mail domain and the one account the
// suites log in with.
const (
	EmbeddedDomain   = reference.LoopbackDomain
	EmbeddedUser     = reference.LoopbackUser
	EmbeddedPassword = reference.LoopbackPassword

	embeddedUser     = EmbeddedUser
	embeddedPassword = EmbeddedPassword
)

// RunEmbedded starts the reference server on loopback with a temporary data
// directory and runs every suite against it (SMTP, POP3, IMAP), with a
// recipient, credentials, a read-back mailbox and SMTP seeding for the
// POP3 and IMAP checks, so every check can run. The server and its data
// are gone when it returns. configure, when not nil, adjusts the server's
// configuration before it starts (tests use it to inject faults).
func RunEmbedded(ctx context.Context, opts Options, configure func(*reference.Config)) (*Report, error) {
	srv, trust, err := reference.StartLoopback(configure)
	if err != nil {
		return nil, fmt.Errorf("%w: embedded reference server: %v", ErrCannotRun, err)
	}
	defer srv.Close()
	defer os.RemoveAll(srv.DataDir())
	userinfo := EmbeddedUser + ":" + EmbeddedPassword + "@"
	smtp, _ := engine.ParseTarget("smtp://"+srv.SMTPAddr(), "")
	pop3, _ := engine.ParseTarget("pop3://"+userinfo+srv.Addr("pop3"), "")
	imap, _ := engine.ParseTarget("imap://"+userinfo+srv.Addr("imap"), "")
	opts.Rcpt = EmbeddedUser + "@" + EmbeddedDomain
	opts.User, opts.Password = EmbeddedUser, EmbeddedPassword
	opts.Readback = &pop3
	opts.Seed = &smtp
	if opts.TLS == nil {
		opts.TLS = trust
	}
	return RunTargets(ctx, []Target{smtp, pop3, imap}, opts)
}

// StartEmbedded starts the reference server RunEmbedded uses and returns it
// with a client TLS configuration that trusts its certificate.
//
// Deprecated: use reference.StartLoopback; the server's starter belongs
// with the server, and a program that only needs the server need not
// import the suites.
func StartEmbedded(configure func(*reference.Config)) (*reference.Server, *tls.Config, error) {
	return reference.StartLoopback(configure)
}
