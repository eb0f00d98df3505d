// Package lineserver is the connection machinery the reference servers for
// line-based protocols (SMTP, POP3) share, so a fix to it — a deadline, the
// shutdown order, the STARTTLS buffer flush — is made once.
//
// A Server owns the accept loop, the connection limit, the registry of live
// sessions and the draining Shutdown. Each session gets a Conn: the
// connection with a buffered reader and writer, where every blocking read
// first flushes the replies still queued (so the replies to pipelined
// commands go out in order and never wait behind a read), and every read and
// write has a deadline.
//
// The package knows no protocol: greetings, reply formats, the texts of a
// refusal or a goodbye and the session states stay in the protocol packages,
// which supply a Handler per session and a Refuse for connections over the
// limit, and decide when a session is busy (see Conn.SetBusy).
package lineserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrServerClosed is what Serve returns after Shutdown or Close when
// Config.ErrClosed is nil.
var ErrServerClosed = errors.New("lineserver: server closed")

// RefuseTimeout bounds the exchange with a connection refused for being over
// Config.MaxConnections, so a client that never reads cannot keep the
// refusal, and the Shutdown waiting for it, going.
const RefuseTimeout = 10 * time.Second

// defaultWriteBufferSize is each Conn's write buffer: room for a burst of
// pipelined replies, or a chunk of a long multiline response, per syscall.
const defaultWriteBufferSize = 4096

// Config is what a protocol package tells a Server. Handler is required;
// MaxConnections, IdleTimeout and ReadBufferSize must be positive.
type Config struct {
	// MaxConnections is the number of concurrent sessions. A connection
	// beyond it goes to Refuse instead of Handler.
	MaxConnections int
	// IdleTimeout bounds each blocking read (the protocol's idle or
	// autologout timer), each write (so a client that stops reading cannot
	// hold a session forever) and each TLS handshake.
	IdleTimeout time.Duration
	// ReadBufferSize is the size of each Conn's read buffer, which is the
	// longest line ReadLine can return whole.
	ReadBufferSize int
	// Handler runs one session, in its own goroutine, and returns when the
	// session is over. The Server closes c after Handler returns, so a
	// protocol can release what the session holds before the client sees
	// the connection end.
	Handler func(c *Conn)
	// Refuse answers a connection over MaxConnections, in place of the
	// greeting, with the protocol's "busy, try later" reply. It gets the
	// accepted connection with a RefuseTimeout deadline; the Server closes
	// it when Refuse returns. Nil closes such connections without a word.
	Refuse func(nc net.Conn)
	// ErrClosed is what Serve returns after Shutdown or Close, so each
	// protocol package keeps its own sentinel. Default ErrServerClosed.
	ErrClosed error
	// Logger receives accept failures, and is what each Conn's Log adds the
	// session's id and address to. Default: discard.
	Logger *slog.Logger
}

// Server accepts connections on any number of listeners and runs a session
// for each.
type Server struct {
	cfg Config

	idPrefix string
	nextID   atomic.Uint64

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*Conn]struct{}
	draining  bool
	done      chan struct{} // closed when draining starts
	wg        sync.WaitGroup
}

// New returns a Server that runs cfg.Handler for each connection it accepts.
func New(cfg Config) *Server {
	if cfg.ErrClosed == nil {
		cfg.ErrClosed = ErrServerClosed
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{
		cfg: cfg,
		// Session ids are unique across restarts: the server's start
		// time, then a counter.
		idPrefix:  strconv.FormatInt(time.Now().UnixMilli(), 36) + "-",
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*Conn]struct{}),
		done:      make(chan struct{}),
	}
}

// Serve accepts connections on l until Shutdown or Close; it always returns
// a non-nil error, Config.ErrClosed after a shutdown. A transient accept
// failure (a timeout, or running out of file descriptors) is logged and
// retried with a growing backoff instead of ending Serve: the sessions that
// end meanwhile free descriptors, and spinning would starve them.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		l.Close()
		return s.cfg.ErrClosed
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
		nc, err := l.Accept()
		if err != nil {
			select {
			case <-s.done:
				return s.cfg.ErrClosed
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.cfg.Logger.Warn("accept failed, retrying", "err", err, "backoff", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.start(nc)
	}
}

// start registers a session for nc and runs it, or refuses nc when the
// server is full. The registration happens before the goroutine starts, so
// a Shutdown racing with it always finds the session.
func (s *Server) start(nc net.Conn) {
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if len(s.conns) >= s.cfg.MaxConnections {
		s.wg.Add(1)
		s.mu.Unlock()
		go s.refuse(nc)
		return
	}
	c := newConn(s, nc)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
		defer c.Close()
		c.log = s.cfg.Logger.With("session", c.id, "remote", nc.RemoteAddr().String())
		s.cfg.Handler(c)
	}()
}

func (s *Server) refuse(nc net.Conn) {
	defer s.wg.Done()
	defer nc.Close()
	if s.cfg.Refuse != nil {
		nc.SetDeadline(time.Now().Add(RefuseTimeout))
		s.cfg.Refuse(nc)
	}
}

// Shutdown stops accepting connections and interrupts every session that
// is not busy (Conn.SetBusy): its blocked or next read returns
// ErrInterrupted, and Conn.ShuttingDown reports true at its next command
// boundary, so the protocol can say goodbye. A busy session is left to
// finish what it is doing. Shutdown waits until every session has ended or
// ctx is done; then it closes the remaining connections (as Close does) and
// returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.startDraining()
	for c := range s.conns {
		c.interruptIfIdle()
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

// Close stops the server at once: it closes the listeners and every
// session's accepted connection, under any TLS layer, so no goodbye is sent
// and nothing waits on a client.
func (s *Server) Close() error {
	s.mu.Lock()
	s.startDraining()
	for c := range s.conns {
		c.raw.Close()
	}
	s.mu.Unlock()
	return nil
}

// startDraining marks the server as shutting down and closes its listeners;
// s.mu must be held.
func (s *Server) startDraining() {
	if !s.draining {
		s.draining = true
		close(s.done)
	}
	for l := range s.listeners {
		l.Close()
	}
}

// DefaultHostname is the name for a server to give in its greeting when it
// is configured with none: the machine's host name, or "localhost" when
// that is unknown.
func DefaultHostname() string {
	if name, _ := os.Hostname(); name != "" {
		return name
	}
	return "localhost"
}

// Done returns a channel that is closed when Shutdown or Close starts, for a
// session to cut a wait short (a delay after a failed login, say).
func (s *Server) Done() <-chan struct{} { return s.done }
