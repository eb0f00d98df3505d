package pop3server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("pop3server: server closed")

// errNoTLSConfig is returned by Serve when ImplicitTLS is set without a
// TLSConfig.
var errNoTLSConfig = errors.New("pop3server: ImplicitTLS needs a TLSConfig")

// Server accepts POP3 sessions on one or more listeners.
type Server struct {
	opts    Options
	backend Backend
	locks   maildropLocks

	idPrefix string
	nextID   atomic.Uint64

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	draining  bool
	done      chan struct{} // closed when draining starts
	wg        sync.WaitGroup
}

// New returns a server that authenticates users and opens their maildrops
// through backend.
func New(backend Backend, opts Options) *Server {
	opts = opts.withDefaults()
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
		if opts.Hostname == "" {
			opts.Hostname = "localhost"
		}
	}
	return &Server{
		idPrefix:  strconv.FormatInt(time.Now().UnixMilli(), 36) + "-",
		opts:      opts,
		backend:   backend,
		listeners: make(map[net.Listener]struct{}),
		sessions:  make(map[*session]struct{}),
		done:      make(chan struct{}),
	}
}

// Options returns the server's options with defaults filled in.
func (s *Server) Options() Options { return s.opts }

// Serve accepts connections on l until Shutdown or Close; it always returns
// a non-nil error, ErrServerClosed after a shutdown.
func (s *Server) Serve(l net.Listener) error {
	if s.opts.ImplicitTLS && s.opts.TLSConfig == nil {
		l.Close()
		return errNoTLSConfig
	}
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		conn, err := l.Accept()
		if err != nil {
			select {
			case <-s.done:
				return ErrServerClosed
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscallEMFILE) {
				// Out of file descriptors or a transient accept error: back
				// off instead of spinning, and keep serving.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.opts.Logger.Warn("accept failed, retrying", "err", err, "backoff", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.startSession(conn)
	}
}

func (s *Server) startSession(conn net.Conn) {
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		conn.Close()
		return
	}
	busy := len(s.sessions) >= s.opts.MaxConnections
	sess := newSession(s, conn)
	if !busy {
		s.sessions[sess] = struct{}{}
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		if busy {
			sess.refuseBusy()
			return
		}
		defer func() {
			s.mu.Lock()
			delete(s.sessions, sess)
			s.mu.Unlock()
		}()
		sess.serve()
	}()
}

// Shutdown stops accepting connections and ends every session: a command
// being executed finishes (a RETR is sent whole, a QUIT already in its
// UPDATE state completes its deletions), then the session is answered
// "-ERR [SYS/TEMP]" and closed. A session ended this way never enters the
// UPDATE state, so messages it marked with DELE are not deleted (RFC 1939
// §6: only QUIT leads to UPDATE). Shutdown waits until every session has
// ended or ctx is done; then it closes the remaining connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.draining {
		s.draining = true
		close(s.done)
	}
	for l := range s.listeners {
		l.Close()
	}
	for sess := range s.sessions {
		sess.interrupt()
	}
	s.mu.Unlock()

	finished := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		s.Close()
		<-finished
		return ctx.Err()
	}
}

// Close stops the server at once, closing every connection. Like Shutdown,
// it deletes nothing that sessions had only marked.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.draining {
		s.draining = true
		close(s.done)
	}
	for l := range s.listeners {
		l.Close()
	}
	for sess := range s.sessions {
		sess.raw.Close()
	}
	s.mu.Unlock()
	return nil
}

func (s *Server) isDraining() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// ListenAndServe listens on the TCP address addr and serves.
func (s *Server) ListenAndServe(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// refuseBusy answers a connection over MaxConnections with -ERR in place of
// the greeting (SYS/TEMP, RFC 3206: a transient condition, try again later)
// and closes it. With implicit TLS the refusal goes over TLS, since the
// client speaks nothing else.
func (sess *session) refuseBusy() {
	defer sess.raw.Close()
	sess.raw.SetDeadline(time.Now().Add(10 * time.Second))
	conn := sess.raw
	if sess.srv.opts.ImplicitTLS {
		tc := tls.Server(sess.raw, sess.srv.opts.TLSConfig)
		if err := tc.Handshake(); err != nil {
			return
		}
		conn = tc
	}
	conn.Write([]byte("-ERR [SYS/TEMP] too many connections\r\n"))
}
