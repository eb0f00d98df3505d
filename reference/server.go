// Package reference is the mailcheck reference mail server: SMTP in, durable
// Maildir mailboxes, and a durable outgoing queue that relays to other
// servers. It is strict to the RFCs, so it is the known-good target for the
// conformance suites, and it embeds: conform and load start one on loopback.
package reference

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mailcheck/mailcheck/reference/durable"
	"github.com/mailcheck/mailcheck/reference/mailstore"
	"github.com/mailcheck/mailcheck/reference/queue"
	"github.com/mailcheck/mailcheck/reference/smtpserver"
	"github.com/mailcheck/mailcheck/reference/users"
)

// Config describes a reference server.
type Config struct {
	// DataDir holds the mailboxes (mail/) and the outgoing queue (queue/).
	DataDir string
	// Hostname names the server in greetings and trace headers.
	// Default: os.Hostname.
	Hostname string
	// Domains are the local mail domains; mail for any other domain is
	// relayed (for authenticated clients only). At least one is required.
	Domains []string
	// Users are the accounts: mailbox owners and AUTH identities.
	Users *users.DB
	// SMTPAddr is the SMTP listen address, e.g. "127.0.0.1:2525".
	SMTPAddr string
	// SMTPListener, if set, is used instead of listening on SMTPAddr.
	SMTPListener net.Listener
	// Routes maps a destination domain to "host:port", overriding DNS MX.
	Routes map[string]string
	// TLS enables STARTTLS; nil disables it.
	TLS *tls.Config
	// SMTP carries the protocol limits and switches (MaxMessageBytes,
	// MaxRecipients, MaxConnections, IdleTimeout, InsecureAuth,
	// AuthFailureDelay). Its Hostname, TLSConfig and Logger are set from
	// this Config.
	SMTP smtpserver.Options
	// Queue carries the retry schedule (RetryBase, RetryMax, Expire) and
	// relay timeouts. Its Dir, Committer, Hostname, Routes, Bounce and
	// Logger are set from this Config.
	Queue queue.Options
	// JournalBytes is the size of the write-ahead journal that
	// group-commits deliveries (durable.DefaultJournalBytes if 0).
	JournalBytes int64
	// Logger receives the server's log. Default: discard.
	Logger *slog.Logger
}

// Server is a running reference server.
type Server struct {
	cfg       Config
	committer *durable.Committer
	store     *mailstore.Store
	queue     *queue.Queue
	smtp      *smtpserver.Server
	smtpLis   net.Listener
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	stopOnce  sync.Once
}

// Start opens the store and the queue, starts the queue runner and starts
// listening. It returns once the server accepts connections.
func Start(cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("reference: no data directory")
	}
	if len(cfg.Domains) == 0 {
		return nil, errors.New("reference: no local domain")
	}
	if cfg.Users == nil {
		cfg.Users = users.New()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
		if cfg.Hostname == "" {
			cfg.Hostname = "localhost"
		}
	}
	domains := make([]string, len(cfg.Domains))
	for i, d := range cfg.Domains {
		domains[i] = strings.ToLower(d)
	}
	// The journal replays changes committed before a crash before the
	// store and queue read the directories.
	committer, err := durable.Open(cfg.DataDir, cfg.JournalBytes)
	if err != nil {
		return nil, err
	}
	store, err := mailstore.Open(cfg.DataDir, committer)
	if err != nil {
		committer.Close()
		return nil, err
	}
	r := &router{domains: domains, users: cfg.Users, store: store, log: cfg.Logger}

	qopts := cfg.Queue
	qopts.Dir = filepath.Join(cfg.DataDir, "queue")
	qopts.Committer = committer
	qopts.Hostname = cfg.Hostname
	qopts.Routes = cfg.Routes
	qopts.Bounce = r.bounce
	qopts.Logger = cfg.Logger.With("part", "queue")
	q, err := queue.Open(qopts)
	if err != nil {
		committer.Close()
		return nil, err
	}
	r.queue = q

	sopts := cfg.SMTP
	sopts.Hostname = cfg.Hostname
	sopts.TLSConfig = cfg.TLS
	sopts.Logger = cfg.Logger.With("part", "smtp")
	srv := &Server{cfg: cfg, committer: committer, store: store, queue: q, smtp: smtpserver.New(r, sopts)}

	srv.smtpLis = cfg.SMTPListener
	if srv.smtpLis == nil {
		srv.smtpLis, err = net.Listen("tcp", cfg.SMTPAddr)
		if err != nil {
			committer.Close()
			return nil, fmt.Errorf("reference: smtp: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv.cancel = cancel
	srv.wg.Add(2)
	go func() {
		defer srv.wg.Done()
		q.Run(ctx)
	}()
	go func() {
		defer srv.wg.Done()
		if err := srv.smtp.Serve(srv.smtpLis); err != nil && !errors.Is(err, smtpserver.ErrServerClosed) {
			cfg.Logger.Error("smtp listener failed", "err", err)
		}
	}()
	return srv, nil
}

// SMTPAddr is the address the SMTP listener is bound to.
func (s *Server) SMTPAddr() string { return s.smtpLis.Addr().String() }

// Store is the server's mailbox store.
func (s *Server) Store() *mailstore.Store { return s.store }

// Queue is the server's outgoing queue.
func (s *Server) Queue() *queue.Queue { return s.queue }

// Shutdown stops accepting, lets transactions in flight finish, stops the
// queue runner, and returns when all is done or ctx expires.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() {
		err = s.smtp.Shutdown(ctx)
		s.cancel()
		done := make(chan struct{})
		go func() { s.wg.Wait(); close(done) }()
		select {
		case <-done:
			// Everything is applied: checkpoint, so the next start has
			// nothing to replay.
			if cerr := s.committer.Close(); err == nil {
				err = cerr
			}
		case <-ctx.Done():
			err = ctx.Err()
		}
	})
	return err
}

// Close stops everything at once.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	s.Shutdown(ctx)
	return nil
}
