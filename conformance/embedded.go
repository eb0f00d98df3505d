package conformance

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/reference"
	"github.com/mailcheck/mailcheck/reference/certs"
	"github.com/mailcheck/mailcheck/reference/users"
)

// Embedded describes the reference server RunEmbedded starts: its mail
// domain and the one account the suites log in with (a throwaway account
// of a loopback server that lives as long as the run; tests use the
// password to prove no report shows it).
const (
	EmbeddedDomain   = "example.org"
	EmbeddedUser     = "bob"
	EmbeddedPassword = "conform-pw"

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
	srv, trust, err := StartEmbedded(configure)
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
func StartEmbedded(configure func(*reference.Config)) (*reference.Server, *tls.Config, error) {
	dir, err := os.MkdirTemp("", "mailcheck-conform-")
	if err != nil {
		return nil, nil, err
	}
	serverTLS, err := certs.SelfSigned("localhost")
	if err != nil {
		return nil, nil, err
	}
	leaf, err := x509.ParseCertificate(serverTLS.Certificates[0].Certificate[0])
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	db := users.New()
	db.Add(EmbeddedUser, EmbeddedPassword)
	cfg := reference.Config{
		DataDir:  dir,
		Hostname: "mx." + EmbeddedDomain,
		Domains:  []string{EmbeddedDomain},
		Users:    db,
		SMTPAddr: "127.0.0.1:0",
		POP3Addr: "127.0.0.1:0",
		IMAPAddr: "127.0.0.1:0",
		TLS:      serverTLS,
		// The read-back logs in over plain POP3 on loopback.
		JournalBytes: 4 << 20,
	}
	cfg.POP3.InsecureAuth = true
	// A short delay keeps the AUTH failure check fast; the default (1s)
	// is for servers facing password guessers.
	cfg.SMTP.AuthFailureDelay = 20 * time.Millisecond
	cfg.POP3.AuthFailureDelay = 20 * time.Millisecond
	if configure != nil {
		configure(&cfg)
	}
	srv, err := reference.Start(cfg)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return srv, &tls.Config{RootCAs: pool, ServerName: "localhost"}, nil
}
