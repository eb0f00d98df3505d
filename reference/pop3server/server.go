package pop3server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"

	"github.com/mailcheck/mailcheck/internal/lineserver"
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
	core    *lineserver.Server // accept loop, connection limit, shutdown
}

// New returns a server that authenticates users and opens their maildrops
// through backend.
func New(backend Backend, opts Options) *Server {
	opts = opts.withDefaults()
	if opts.Hostname == "" {
		opts.Hostname = lineserver.DefaultHostname()
	}
	s := &Server{opts: opts, backend: backend}
	s.core = lineserver.New(lineserver.Config{
		MaxConnections: opts.MaxConnections,
		IdleTimeout:    opts.IdleTimeout,
		ReadBufferSize: readBufferSize,
		Handler:        s.serveConn,
		Refuse:         s.refuseBusy,
		ErrClosed:      ErrServerClosed,
		Logger:         opts.Logger,
	})
	return s
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
	return s.core.Serve(l)
}

// Shutdown stops accepting connections and ends every session: a command
// being executed finishes (a RETR is sent whole, a QUIT already in its
// UPDATE state completes its deletions), then the session is answered
// "-ERR [SYS/TEMP]" and closed. A session ended this way never enters the
// UPDATE state, so messages it marked with DELE are not deleted (RFC 1939
// §6: only QUIT leads to UPDATE). Shutdown waits until every session has
// ended or ctx is done; then it closes the remaining connections.
//
// Sessions never mark themselves busy (lineserver.Conn.SetBusy): the
// interrupt takes effect at a session's next read, and no POP3 command
// reads from the client once it has started (but for the STLS handshake,
// which a shutdown cuts short), so every command already runs to its end.
func (s *Server) Shutdown(ctx context.Context) error { return s.core.Shutdown(ctx) }

// Close stops the server at once, closing every connection. Like Shutdown,
// it deletes nothing that sessions had only marked.
func (s *Server) Close() error { return s.core.Close() }

// ListenAndServe listens on the TCP address addr and serves.
func (s *Server) ListenAndServe(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// serveConn runs the session of one accepted connection.
func (s *Server) serveConn(c *lineserver.Conn) { newSession(s, c).serve() }

// refuseBusy answers a connection over MaxConnections with -ERR in place of
// the greeting (SYS/TEMP, RFC 3206: a transient condition, try again later);
// lineserver bounds it and closes the connection. With implicit TLS the
// refusal goes over TLS, since the client speaks nothing else.
func (s *Server) refuseBusy(conn net.Conn) {
	if s.opts.ImplicitTLS {
		tc := tls.Server(conn, s.opts.TLSConfig)
		if err := tc.Handshake(); err != nil {
			return
		}
		conn = tc
	}
	conn.Write([]byte("-ERR [SYS/TEMP] too many connections\r\n"))
}
