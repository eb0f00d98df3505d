package smtpserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("smtpserver: server closed")

// Server accepts SMTP sessions on one or more listeners.
type Server struct {
	opts    Options
	backend Backend

	idPrefix string
	nextID   atomic.Uint64

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	draining  bool
	done      chan struct{} // closed when draining starts
	wg        sync.WaitGroup
}

// New returns a server that hands mail to backend.
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

// Shutdown stops accepting connections, lets every transaction in flight
// finish (the client gets its reply to DATA), answers 421 to sessions between
// transactions, and waits until every session has ended or ctx is done; then
// it closes the remaining connections.
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
		sess.interruptIfIdle()
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

// Close stops the server at once, closing every connection.
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
		sess.conn.Close()
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

// refuseBusy answers a connection over MaxConnections (RFC 5321 §3.1: 421
// in place of the greeting) and closes it.
func (sess *session) refuseBusy() {
	defer sess.conn.Close()
	sess.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(sess.conn, "421 4.3.2 %s Too many connections, try again later\r\n", sess.srv.opts.Hostname)
}

// newConnIO wires the buffered reader and writer of a session to conn with
// per-operation deadlines.
func (sess *session) setConn(conn net.Conn) {
	sess.conn = conn
	_, sess.info.TLS = conn.(*tls.Conn)
	sess.out = &deadlineWriter{sess: sess}
	sess.in = &deadlineReader{sess: sess}
	sess.w = bufio.NewWriterSize(sess.out, 4096)
	sess.r = bufio.NewReaderSize(sess.in, readBufferSize)
}
