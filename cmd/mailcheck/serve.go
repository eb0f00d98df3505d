package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
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

type serveFlags struct {
	dataDir, smtpAddr, hostname string
	imapAddr, imapsAddr         string
	pop3Addr, pop3sAddr         string
	pop3Idle                    time.Duration
	domains, userPairs, routes  []string
	usersFile                   string
	tlsCert, tlsKey             string
	noTLS, insecureAuth         bool
	maxMessage                  int64
	maxRcpts, maxConns          int
	idle, dataTimeout           time.Duration
	authDelay                   time.Duration
	retryBase, retryMax, expire time.Duration
	shutdownTimeout             time.Duration
	logLevel, logFormat         string
}

func newServeCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the reference SMTP server",
		Long: `serve runs the mailcheck reference mail server: strict RFC 5321 SMTP with
PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES, STARTTLS and AUTH PLAIN/LOGIN;
per-user Maildir mailboxes under --data; and a durable outgoing queue that
relays mail for other domains (authenticated clients only, never an open
relay) over one persistent SMTP session per destination.

A message gets 250 only once it is fsync'd to disk (file and directory).
DATA is refused (5xx) when it holds a bare CR or LF (the defence against SMTP
smuggling), a NUL, 8-bit octets without BODY=8BITMIME, or a line over 1000
octets. Passwords are taken only over TLS unless --insecure-auth.

Without --tls-cert/--tls-key a self-signed certificate is made at start.
SIGINT or SIGTERM stops accepting, lets transactions in flight finish, and
exits 0.`,
		Example: `  # Loopback server for client tests; alice may log in without TLS
  mailcheck serve --domain example.org --user alice:secret --insecure-auth

  # Two servers: A relays example.net mail to B
  mailcheck serve --data /tmp/b --smtp 127.0.0.1:2526 --domain example.net --user bob:pw
  mailcheck serve --data /tmp/a --domain example.org --user alice:pw \
      --route example.net=127.0.0.1:2526 --insecure-auth

  # Hashed passwords at rest
  echo secret | mailcheck hash-password alice > users.txt
  mailcheck serve --users users.txt --domain example.org`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data", "mailcheck-data", "data directory (mailboxes and queue)")
	fl.StringVar(&f.smtpAddr, "smtp", "127.0.0.1:2525", "SMTP listen address")
	fl.StringVar(&f.imapAddr, "imap", "127.0.0.1:2143", "IMAP listen address (STARTTLS); empty disables")
	fl.StringVar(&f.imapsAddr, "imaps", "", "IMAP implicit-TLS listen address, e.g. 127.0.0.1:2993; empty disables")
	fl.StringVar(&f.pop3Addr, "pop3", "127.0.0.1:2110", "POP3 listen address (STLS); empty disables")
	fl.StringVar(&f.pop3sAddr, "pop3s", "", "POP3 implicit-TLS listen address, e.g. 127.0.0.1:2995; empty disables")
	fl.DurationVar(&f.pop3Idle, "pop3-idle-timeout", 10*time.Minute, "POP3 inactivity autologout (RFC 1939 §3: at least 10m)")
	fl.StringVar(&f.hostname, "hostname", "", "server name in greetings and Received headers (default: the host name)")
	fl.StringArrayVar(&f.domains, "domain", []string{"localhost"}, "local mail domain (repeatable)")
	fl.StringArrayVar(&f.userPairs, "user", nil, "account NAME:PASSWORD, for quick tests (repeatable)")
	fl.StringVar(&f.usersFile, "users", "", "users file of NAME:HASH lines (see hash-password)")
	fl.StringArrayVar(&f.routes, "route", nil, "static route DOMAIN=HOST:PORT, overriding DNS MX (repeatable)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate for STARTTLS")
	fl.StringVar(&f.tlsKey, "tls-key", "", "PEM private key for STARTTLS")
	fl.BoolVar(&f.noTLS, "no-tls", false, "do not offer STARTTLS")
	fl.BoolVar(&f.insecureAuth, "insecure-auth", false, "accept passwords without TLS: SMTP AUTH, IMAP LOGIN, POP3 USER/PASS (loopback tests only)")
	fl.Int64Var(&f.maxMessage, "max-message-size", smtpserver.DefaultMaxMessageBytes, "largest message in octets (advertised with SIZE)")
	fl.IntVar(&f.maxRcpts, "max-recipients", smtpserver.DefaultMaxRecipients, "recipients per message (at least 100)")
	fl.IntVar(&f.maxConns, "max-connections", smtpserver.DefaultMaxConnections, "concurrent sessions of each protocol (SMTP, POP3, IMAP); more are refused (421, -ERR, BYE)")
	fl.DurationVar(&f.idle, "idle-timeout", smtpserver.DefaultIdleTimeout, "time for each SMTP command line to arrive before closing with 421")
	fl.DurationVar(&f.dataTimeout, "data-timeout", smtpserver.DefaultDataTimeout, "time for a whole SMTP message after DATA before closing with 421")
	fl.DurationVar(&f.authDelay, "auth-failure-delay", smtpserver.DefaultAuthFailureDelay, "delay before answering a failed login (SMTP, POP3, IMAP); doubles per client after 3 failures")
	fl.DurationVar(&f.retryBase, "retry-base", time.Minute, "first retry delay of a deferred outgoing message (doubles each time)")
	fl.DurationVar(&f.retryMax, "retry-max", time.Hour, "longest retry delay")
	fl.DurationVar(&f.expire, "queue-expire", 5*24*time.Hour, "give up on (and bounce) an outgoing message after this long")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long SIGINT/SIGTERM waits for transactions in flight")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	return cmd
}

func runServe(cmd *cobra.Command, f serveFlags) error {
	logger, err := newLogger(f.logLevel, f.logFormat)
	if err != nil {
		return usageError{err}
	}
	db := users.New()
	for _, pair := range f.userPairs {
		name, pw, ok := strings.Cut(pair, ":")
		if !ok || pw == "" {
			return usageError{fmt.Errorf("--user %q: want NAME:PASSWORD", pair)}
		}
		if err := db.Add(name, pw); err != nil {
			return usageError{err}
		}
	}
	if f.usersFile != "" {
		if err := db.LoadFile(f.usersFile); err != nil {
			return usageError{err}
		}
	}
	routes := make(map[string]string)
	for _, r := range f.routes {
		domain, addr, ok := strings.Cut(r, "=")
		if !ok || !smtpaddr.IsDomain(domain) || !strings.Contains(addr, ":") {
			return usageError{fmt.Errorf("--route %q: want DOMAIN=HOST:PORT", r)}
		}
		routes[strings.ToLower(domain)] = addr
	}
	for _, d := range f.domains {
		if !smtpaddr.IsDomain(d) {
			return usageError{fmt.Errorf("--domain %q is not a domain name", d)}
		}
	}
	var tlsConfig *tls.Config
	switch {
	case f.noTLS:
	case f.tlsCert != "" || f.tlsKey != "":
		if f.tlsCert == "" || f.tlsKey == "" {
			return usageError{fmt.Errorf("--tls-cert and --tls-key go together")}
		}
		if tlsConfig, err = certs.Load(f.tlsCert, f.tlsKey); err != nil {
			return usageError{err}
		}
	default:
		host := f.hostname
		if host == "" {
			host, _ = os.Hostname()
		}
		if tlsConfig, err = certs.SelfSigned(host); err != nil {
			return err
		}
	}
	cfg := reference.Config{
		DataDir:      f.dataDir,
		Hostname:     f.hostname,
		Domains:      f.domains,
		Users:        db,
		SMTPAddr:     f.smtpAddr,
		IMAPAddr:     f.imapAddr,
		IMAPSAddr:    f.imapsAddr,
		POP3Addr:     f.pop3Addr,
		POP3SAddr:    f.pop3sAddr,
		InsecureAuth: f.insecureAuth,
		Routes:       routes,
		TLS:          tlsConfig,
		Logger:       logger,
	}
	cfg.SMTP.MaxMessageBytes = f.maxMessage
	cfg.SMTP.MaxRecipients = f.maxRcpts
	cfg.SMTP.MaxConnections = f.maxConns
	cfg.POP3.MaxConnections = f.maxConns
	cfg.IMAP.MaxConnections = f.maxConns
	cfg.SMTP.IdleTimeout = f.idle
	cfg.SMTP.DataTimeout = f.dataTimeout
	cfg.SMTP.AuthFailureDelay = f.authDelay
	if f.authDelay == 0 {
		cfg.SMTP.AuthFailureDelay = -1
	}
	cfg.POP3.IdleTimeout = f.pop3Idle
	cfg.POP3.AuthFailureDelay = cfg.SMTP.AuthFailureDelay
	cfg.Queue.RetryBase = f.retryBase
	cfg.Queue.RetryMax = f.retryMax
	cfg.Queue.Expire = f.expire

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := reference.Start(cfg)
	if err != nil {
		return err
	}
	var listening []string
	for _, svc := range []string{"smtp", "imap", "imaps", "pop3", "pop3s"} {
		if addr := srv.Addr(svc); addr != "" {
			listening = append(listening, strings.ToUpper(svc)+" on "+addr)
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "mailcheck serve: %s (domains %s, data %s)\n", strings.Join(listening, ", "), strings.Join(f.domains, ", "), f.dataDir)
	<-ctx.Done()
	stop()
	logger.Info("shutting down", "timeout", f.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown timed out; connections closed", "err", err)
	}
	return nil
}

func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
