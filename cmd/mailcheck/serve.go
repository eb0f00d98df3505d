package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailcheck/mailcheck/reference"
	"github.com/mailcheck/mailcheck/reference/certs"
	"github.com/mailcheck/mailcheck/reference/smtpserver"
	"github.com/mailcheck/mailcheck/reference/users"
	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
)

// serveFlags are the server's configuration (the flags set it directly)
// and what is not part of it.
type serveFlags struct {
	cfg                        reference.Config
	userPairs, routes          []string
	usersFile, tlsCert, tlsKey string
	noTLS                      bool
	maxConns                   int
	authDelay, shutdownTimeout time.Duration
	logLevel, logFormat        string
}

func newServeCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:     "serve",
		Short:   "Run the reference SMTP server",
		Long:    helpText("serve"),
		Example: helpText("serve.example"),
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runServe(cmd, f) },
	}
	fl, c := cmd.Flags(), &f.cfg
	fl.StringVar(&c.DataDir, "data", "mailcheck-data", "data directory (mailboxes and queue)")
	fl.StringVar(&c.SMTPAddr, "smtp", "127.0.0.1:2525", "SMTP listen address")
	fl.StringVar(&c.IMAPAddr, "imap", "127.0.0.1:2143", "IMAP listen address (STARTTLS); empty disables")
	fl.StringVar(&c.IMAPSAddr, "imaps", "", "IMAP implicit-TLS listen address, e.g. 127.0.0.1:2993; empty disables")
	fl.StringVar(&c.POP3Addr, "pop3", "127.0.0.1:2110", "POP3 listen address (STLS); empty disables")
	fl.StringVar(&c.POP3SAddr, "pop3s", "", "POP3 implicit-TLS listen address, e.g. 127.0.0.1:2995; empty disables")
	fl.DurationVar(&c.POP3.IdleTimeout, "pop3-idle-timeout", 10*time.Minute, "POP3 inactivity autologout (RFC 1939 §3: at least 10m)")
	fl.StringVar(&c.Hostname, "hostname", "", "server name in greetings and Received headers (default: the host name)")
	fl.StringArrayVar(&c.Domains, "domain", []string{"localhost"}, "local mail domain (repeatable)")
	fl.StringArrayVar(&f.userPairs, "user", nil, "account NAME:PASSWORD, for quick tests (repeatable)")
	fl.StringVar(&f.usersFile, "users", "", "users file of NAME:HASH lines (see hash-password)")
	fl.StringArrayVar(&f.routes, "route", nil, "static route DOMAIN=HOST:PORT, overriding DNS MX (repeatable)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate for STARTTLS")
	fl.StringVar(&f.tlsKey, "tls-key", "", "PEM private key for STARTTLS")
	fl.BoolVar(&f.noTLS, "no-tls", false, "do not offer STARTTLS")
	fl.BoolVar(&c.InsecureAuth, "insecure-auth", false, "accept passwords without TLS: SMTP AUTH, IMAP LOGIN, POP3 USER/PASS (loopback tests only)")
	fl.Int64Var(&c.SMTP.MaxMessageBytes, "max-message-size", smtpserver.DefaultMaxMessageBytes, "largest message in octets (advertised with SIZE)")
	fl.IntVar(&c.SMTP.MaxRecipients, "max-recipients", smtpserver.DefaultMaxRecipients, "recipients per message (at least 100)")
	fl.IntVar(&f.maxConns, "max-connections", smtpserver.DefaultMaxConnections, "concurrent sessions of each protocol (SMTP, POP3, IMAP); more are refused (421, -ERR, BYE)")
	fl.DurationVar(&c.SMTP.IdleTimeout, "idle-timeout", smtpserver.DefaultIdleTimeout, "time for each SMTP command line to arrive before closing with 421")
	fl.DurationVar(&c.SMTP.DataTimeout, "data-timeout", smtpserver.DefaultDataTimeout, "time for a whole SMTP message after DATA before closing with 421")
	fl.DurationVar(&f.authDelay, "auth-failure-delay", smtpserver.DefaultAuthFailureDelay, "delay before answering a failed login (SMTP, POP3, IMAP); doubles per client after 3 failures")
	fl.DurationVar(&c.Queue.RetryBase, "retry-base", time.Minute, "first retry delay of a deferred outgoing message (doubles each time)")
	fl.DurationVar(&c.Queue.RetryMax, "retry-max", time.Hour, "longest retry delay")
	fl.DurationVar(&c.Queue.Expire, "queue-expire", 5*24*time.Hour, "give up on (and bounce) an outgoing message after this long")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long SIGINT/SIGTERM waits for transactions in flight")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	return cmd
}

func runServe(cmd *cobra.Command, f serveFlags) error {
	cfg, err := serveConfig(f)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := reference.Start(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "mailcheck serve: %s (domains %s, data %s)\n", strings.Join(srv.Listening(), ", "), strings.Join(cfg.Domains, ", "), cfg.DataDir)
	<-ctx.Done()
	stop()
	cfg.Logger.Info("shutting down", "timeout", f.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		cfg.Logger.Warn("shutdown timed out; connections closed", "err", err)
	}
	return nil
}

// serveConfig completes the server's configuration from the flags.
func serveConfig(f serveFlags) (reference.Config, error) {
	cfg := f.cfg
	cfg.Users = users.New()
	var err error
	if cfg.Logger, err = reference.NewLogger(os.Stderr, f.logLevel, f.logFormat); err != nil {
		return cfg, usageError{err}
	}
	if err := cfg.Users.AddAccounts(f.userPairs); err != nil {
		return cfg, usageError{fmt.Errorf("--user %w", err)}
	}
	if f.usersFile != "" {
		if err := cfg.Users.LoadFile(f.usersFile); err != nil {
			return cfg, usageError{err}
		}
	}
	if cfg.Routes, err = reference.ParseRoutes(f.routes); err != nil {
		return cfg, usageError{fmt.Errorf("--route %w", err)}
	}
	for _, d := range cfg.Domains {
		if !smtpaddr.IsDomain(d) {
			return cfg, usageError{fmt.Errorf("--domain %q is not a domain name", d)}
		}
	}
	if !f.noTLS {
		cfg.TLS, err = certs.ForServer(f.tlsCert, f.tlsKey, cfg.Hostname)
		if errors.Is(err, certs.ErrHalfPair) {
			return cfg, usageError{errors.New("--tls-cert and --tls-key go together")}
		} else if err != nil {
			return cfg, usageError{err}
		}
	}
	cfg.SMTP.MaxConnections, cfg.POP3.MaxConnections, cfg.IMAP.MaxConnections = f.maxConns, f.maxConns, f.maxConns
	// 0 is no delay here; the servers take 0 for their default.
	cfg.SMTP.AuthFailureDelay = f.authDelay
	if f.authDelay == 0 {
		cfg.SMTP.AuthFailureDelay = -1
	}
	cfg.POP3.AuthFailureDelay = cfg.SMTP.AuthFailureDelay
	return cfg, nil
}
