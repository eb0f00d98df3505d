// Package reference is the mailcheck reference mail server: SMTP in, durable
// Maildir mailboxes, and a durable outgoing queue that relays to other
// servers. It is strict to the RFCs, so it is the known-good target for the
// conformance suites, and it embeds: conform and load start one on loopback
// with StartLoopback.
package reference

import (
	"cmp"
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

	"github.com/mailcheck/mailcheck/reference/durable"
	"github.com/mailcheck/mailcheck/reference/imapbackend"
	"github.com/mailcheck/mailcheck/reference/loginthrottle"
	"github.com/mailcheck/mailcheck/reference/mailstore"
	"github.com/mailcheck/mailcheck/reference/pop3server"
	"github.com/mailcheck/mailcheck/reference/queue"
	"github.com/mailcheck/mailcheck/reference/smtpserver"
	"github.com/mailcheck/mailcheck/reference/users"

	"github.com/emersion/go-imap/v2/imapserver"
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
	// IMAPAddr and IMAPSAddr are the IMAP listen addresses, plain (with
	// STARTTLS when TLS is set) and implicit TLS (RFC 8314); "" disables.
	IMAPAddr, IMAPSAddr string
	// POP3Addr and POP3SAddr are the POP3 listen addresses, plain (with STLS
	// when TLS is set) and implicit TLS; "" disables.
	POP3Addr, POP3SAddr string
	// POP3Listener, if set, is used instead of listening on POP3Addr (a
	// socket passed in by a service manager, or one the embedder wraps).
	POP3Listener net.Listener
	// WrapPOP3Backend, if set, wraps the backend the POP3 servers
	// authenticate users and open maildrops with (the users' INBOXes in
	// the store): middleware of the embedder's, to log or audit maildrop
	// access, say, or to change what POP3 clients see.
	WrapPOP3Backend func(pop3server.Backend) pop3server.Backend
	// IMAP carries IMAP switches and limits: InsecureAuth (for IMAP
	// alone), MaxConnections, MaxAppendBytes (default SMTP.MaxMessageBytes)
	// and WrapSession. Its Store, Authenticate, TLSConfig and Logger are
	// set from this Config.
	IMAP imapbackend.Options
	// POP3 carries POP3 limits (IdleTimeout, AuthFailureDelay,
	// MaxConnections). Its Hostname, TLSConfig, InsecureAuth and Logger are
	// set from this Config.
	POP3 pop3server.Options
	// InsecureAuth allows passwords without TLS on every protocol (SMTP
	// AUTH, IMAP LOGIN, POP3 USER/PASS): for loopback tests only.
	InsecureAuth bool
	// Routes maps a destination domain to "host:port", overriding DNS MX.
	Routes map[string]string
	// TLS enables STARTTLS; nil disables it.
	TLS *tls.Config
	// SMTP carries the protocol limits and switches (MaxMessageBytes,
	// MaxRecipients, MaxTextLine, MaxConnections, IdleTimeout, DataTimeout,
	// InsecureAuth, AuthFailureDelay). Its Hostname, TLSConfig and Logger
	// are set from this Config. SMTP.AuthFailureDelay is the base delay of
	// the failed-login throttle SMTP, POP3 and IMAP share (unless each is
	// given a LoginThrottle of its own).
	SMTP smtpserver.Options
	// WrapSMTPBackend, when set, wraps the backend the SMTP server hands
	// logins, recipients and messages to (the router: local mailboxes and
	// the relay queue) and returns the one to use: an embedder's policy in
	// front of the router, such as a content filter, an archive copy or
	// extra logging.
	WrapSMTPBackend func(smtpserver.Backend) smtpserver.Backend
	// Queue carries the retry schedule (RetryBase, RetryMax, Expire) and
	// relay timeouts. Its Dir, Committer, Hostname, Routes, Bounce and
	// Logger are set from this Config.
	Queue queue.Options
	// JournalBytes is the size of the write-ahead journal that
	// group-commits deliveries (durable.DefaultJournalBytes if 0).
	JournalBytes int64
	// StorageFS is the file system the mailboxes and the queue change
	// (durable.FS; durable.OSFS if nil): a wrapper can count or time the
	// flushes, or, in tests, fail chosen steps as a full or failing disk
	// would, to show the server refuses mail with 452/451 and recovers.
	StorageFS durable.FS
	// Logger receives the server's log. Default: discard.
	Logger *slog.Logger
}

// Server is a running reference server.
type Server struct {
	cfg       Config
	imap      *imapserver.Server
	pop3      *pop3server.Server
	pop3s     *pop3server.Server
	addrs     map[string]string // service name → bound address
	listeners []net.Listener
	committer *durable.Committer
	store     *mailstore.Store
	queue     *queue.Queue
	smtp      *smtpserver.Server
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	stopOnce  sync.Once
	stopping  chan struct{} // closed when Shutdown starts
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
	committer, err := durable.OpenWith(cfg.DataDir, durable.Options{JournalBytes: cfg.JournalBytes, FS: cfg.StorageFS})
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

	// One failed-login count per client for all three protocols, so a
	// password guesser cannot escape its delay by changing protocol.
	throttle := loginthrottle.New(loginthrottle.Options{Base: cmp.Or(cfg.SMTP.AuthFailureDelay, smtpserver.DefaultAuthFailureDelay)})

	sopts := cfg.SMTP
	sopts.LoginThrottle = cmp.Or(sopts.LoginThrottle, throttle)
	sopts.Hostname = cfg.Hostname
	sopts.TLSConfig = cfg.TLS
	sopts.Logger = cfg.Logger.With("part", "smtp")
	sopts.InsecureAuth = sopts.InsecureAuth || cfg.InsecureAuth
	var backend smtpserver.Backend = r
	if cfg.WrapSMTPBackend != nil {
		backend = cfg.WrapSMTPBackend(r)
	}
	srv := &Server{cfg: cfg, committer: committer, store: store, queue: q, smtp: smtpserver.New(backend, sopts)}

	srv.addrs = make(map[string]string)
	srv.stopping = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	srv.cancel = cancel
	fail := func(err error) (*Server, error) {
		cancel()
		for _, l := range srv.listeners {
			l.Close()
		}
		committer.Close()
		return nil, err
	}
	smtpLis := cfg.SMTPListener
	if smtpLis == nil {
		if smtpLis, err = net.Listen("tcp", cfg.SMTPAddr); err != nil {
			return fail(fmt.Errorf("reference: smtp: %w", err))
		}
	}
	srv.add("smtp", smtpLis, func(l net.Listener) error { return srv.smtp.Serve(l) })

	if cfg.IMAPAddr != "" || cfg.IMAPSAddr != "" {
		iopts := cfg.IMAP
		iopts.Store = store
		iopts.Authenticate = r.Authenticate
		iopts.TLSConfig = cfg.TLS
		iopts.InsecureAuth = iopts.InsecureAuth || cfg.InsecureAuth
		iopts.Logger = cfg.Logger.With("part", "imap")
		iopts.LoginThrottle = cmp.Or(iopts.LoginThrottle, throttle)
		// APPEND takes what SMTP takes.
		iopts.MaxAppendBytes = cmp.Or(iopts.MaxAppendBytes, srv.smtp.Options().MaxMessageBytes)
		srv.imap = imapbackend.NewServer(iopts)
		for _, svc := range []struct {
			name, addr string
			tls        bool
		}{{"imap", cfg.IMAPAddr, false}, {"imaps", cfg.IMAPSAddr, true}} {
			if svc.addr == "" {
				continue
			}
			l, err := listen(svc.addr, svc.tls, cfg.TLS)
			if err != nil {
				return fail(fmt.Errorf("reference: %s: %w", svc.name, err))
			}
			srv.add(svc.name, l, srv.imap.Serve)
		}
	}

	if cfg.POP3Addr != "" || cfg.POP3SAddr != "" || cfg.POP3Listener != nil {
		popts := cfg.POP3
		popts.Hostname = cfg.Hostname
		popts.TLSConfig = cfg.TLS
		popts.InsecureAuth = popts.InsecureAuth || cfg.InsecureAuth
		popts.Logger = cfg.Logger.With("part", "pop3")
		popts.LoginThrottle = cmp.Or(popts.LoginThrottle, throttle)
		var backend pop3server.Backend = pop3Backend{router: r, store: store}
		if cfg.WrapPOP3Backend != nil {
			backend = cfg.WrapPOP3Backend(backend)
		}
		srv.pop3 = pop3server.New(backend, popts)
		if l := cfg.POP3Listener; l != nil || cfg.POP3Addr != "" {
			if l == nil {
				if l, err = net.Listen("tcp", cfg.POP3Addr); err != nil {
					return fail(fmt.Errorf("reference: pop3: %w", err))
				}
			}
			srv.add("pop3", l, srv.pop3.Serve)
		}
		if cfg.POP3SAddr != "" {
			// Implicit TLS: a server of its own, handshaking before the
			// greeting.
			popts.ImplicitTLS = true
			srv.pop3s = pop3server.New(backend, popts)
			l, err := net.Listen("tcp", cfg.POP3SAddr)
			if err != nil {
				return fail(fmt.Errorf("reference: pop3s: %w", err))
			}
			srv.add("pop3s", l, srv.pop3s.Serve)
		}
	}

	srv.wg.Add(1)
	go func() {
		defer srv.wg.Done()
		q.Run(ctx)
	}()
	return srv, nil
}

// add starts serving l for the named service.
func (s *Server) add(name string, l net.Listener, serve func(net.Listener) error) {
	s.listeners = append(s.listeners, l)
	s.addrs[name] = l.Addr().String()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := serve(l)
		select {
		case <-s.stopping:
			return // listeners closed by Shutdown: whatever Serve says is expected
		default:
		}
		if err != nil && !errors.Is(err, smtpserver.ErrServerClosed) && !errors.Is(err, pop3server.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.cfg.Logger.Error("listener failed", "service", name, "err", err)
		}
	}()
}

// listen opens a TCP listener, wrapped in TLS for implicit-TLS services.
func listen(addr string, implicitTLS bool, cfg *tls.Config) (net.Listener, error) {
	if implicitTLS && cfg == nil {
		return nil, errors.New("implicit TLS needs a certificate")
	}
	l, err := net.Listen("tcp", addr)
	if err != nil || !implicitTLS {
		return l, err
	}
	return tls.NewListener(l, cfg), nil
}

// SMTPAddr is the address the SMTP listener is bound to.
func (s *Server) SMTPAddr() string { return s.addrs["smtp"] }

// Addr is the address the named service ("smtp", "imap", "imaps", "pop3",
// "pop3s") is bound to, or "" if it is not enabled.
func (s *Server) Addr(service string) string { return s.addrs[service] }

// DataDir is the server's data directory.
func (s *Server) DataDir() string { return s.cfg.DataDir }

// Store is the server's mailbox store.
func (s *Server) Store() *mailstore.Store { return s.store }

// Queue is the server's outgoing queue.
func (s *Server) Queue() *queue.Queue { return s.queue }

// Shutdown stops accepting, lets transactions in flight finish, stops the
// queue runner, and returns when all is done or ctx expires.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() {
		close(s.stopping)
		err = s.smtp.Shutdown(ctx)
		if s.imap != nil {
			// IMAP has no transaction to finish: close at once.
			s.imap.Close()
		}
		// POP3 sessions end without entering UPDATE: nothing is deleted.
		for _, p := range []*pop3server.Server{s.pop3, s.pop3s} {
			if p != nil {
				if perr := p.Shutdown(ctx); err == nil {
					err = perr
				}
			}
		}
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
			// The connections are closed; what still runs (a relay
			// transaction bounded by its command timeout) ends on its own.
			// The journal closes after it, so no descriptor leaks.
			go func() {
				<-done
				s.committer.Close()
			}()
		}
	})
	return err
}

// Close stops everything at once.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Shutdown(ctx)
	return nil
}
