package smtpclient

import (
	"bufio"
)

// Link is the connection a Client talks over. New wraps a net.Conn in
// one; a caller with its own instrumented connection (deadlines by phase,
// a read budget, its own TLS set-up) implements it and calls NewOver.
type Link interface {
	// Write sends b as is, bounding the wait.
	Write(b []byte) error
	// ReadWith arms the wait for the server and calls read with the
	// connection's buffered reader; it returns read's error, explained
	// (a timeout, the server closing) as the link sees fit.
	ReadWith(read func(r *bufio.Reader) error) error
	// StartTLS runs the client TLS handshake after the server's 220 to
	// STARTTLS (RFC 3207 §4); plain text the server sent before it is
	// dropped, as it is not part of the TLS session (RFC 3207 §5).
	StartTLS() error
	// TLS reports whether the connection is encrypted.
	TLS() bool
	// Close closes the connection.
	Close() error
}
