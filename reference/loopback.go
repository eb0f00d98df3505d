package reference

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"time"

	"github.com/mailcheck/mailcheck/reference/certs"
	"github.com/mailcheck/mailcheck/reference/users"
)

// The loopback server StartLoopback starts serves one mail domain and one
// account: a throwaway account of a server that lives as long as the run
// that started it (tests use the password to prove no report shows it).
const (
	LoopbackDomain   = "example.org"
	LoopbackUser     = "bob"
	LoopbackPassword = "conform-pw"
)

// StartLoopback starts the reference server on 127.0.0.1 ports chosen by
// the system (SMTP, POP3 and IMAP), with a temporary data directory, a
// self-signed certificate for "localhost" and the account LoopbackUser,
// and returns it with a client TLS configuration that trusts that
// certificate. It is the server `mailcheck conform` and `mailcheck load`
// embed when given no target. The caller closes the server and removes
// its DataDir. configure, when not nil, adjusts the configuration before
// the server starts (tests use it to inject faults or add accounts).
func StartLoopback(configure func(*Config)) (*Server, *tls.Config, error) {
	dir, err := os.MkdirTemp("", "mailcheck-conform-")
	if err != nil {
		return nil, nil, err
	}
	serverTLS, err := certs.SelfSigned("localhost")
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	leaf, err := x509.ParseCertificate(serverTLS.Certificates[0].Certificate[0])
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	db := users.New()
	db.Add(LoopbackUser, LoopbackPassword)
	cfg := Config{
		DataDir:  dir,
		Hostname: "mx." + LoopbackDomain,
		Domains:  []string{LoopbackDomain},
		Users:    db,
		SMTPAddr: "127.0.0.1:0",
		POP3Addr: "127.0.0.1:0",
		IMAPAddr: "127.0.0.1:0",
		TLS:      serverTLS,
		// The conformance read-back logs in over plain POP3 on loopback.
		JournalBytes: 4 << 20,
	}
	cfg.POP3.InsecureAuth = true
	// A short delay keeps the AUTH failure checks fast; the default (1s)
	// is for servers facing password guessers.
	cfg.SMTP.AuthFailureDelay = 20 * time.Millisecond
	cfg.POP3.AuthFailureDelay = 20 * time.Millisecond
	if configure != nil {
		configure(&cfg)
	}
	srv, err := Start(cfg)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return srv, &tls.Config{RootCAs: pool, ServerName: "localhost"}, nil
}
