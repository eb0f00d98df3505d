package smtpserver

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/mailcheck/mailcheck/internal/lineserver"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("smtpserver: server closed")

// Server accepts SMTP sessions on one or more listeners.
type Server struct {
	opts    Options
	backend Backend
	core    *lineserver.Server // accept loop, connection limit, shutdown
}

// New returns a server that hands mail to backend.
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
func (s *Server) Serve(l net.Listener) error { return s.core.Serve(l) }

// Shutdown stops accepting connections, lets every transaction in flight
// finish (the client gets its reply to DATA), answers 421 to sessions between
// transactions, and waits until every session has ended or ctx is done; then
// it closes the remaining connections.
func (s *Server) Shutdown(ctx context.Context) error { return s.core.Shutdown(ctx) }

// Close stops the server at once, closing every connection.
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

// refuseBusy answers a connection over MaxConnections (RFC 5321 §3.1: 421
// in place of the greeting); lineserver bounds it and closes the connection.
func (s *Server) refuseBusy(conn net.Conn) {
	fmt.Fprintf(conn, "421 4.3.2 %s Too many connections, try again later\r\n", s.opts.Hostname)
}
