// Package smtpserver is the reference SMTP server: an RFC 5321 state machine
// written by hand so it can be strict where common libraries are lenient
// (8-bit data without BODY=8BITMIME, bare LF in DATA, a fixed extension
// list). It has one code path, the correct one: the conformance proofs
// re-create each fault outside it, in front of it or around its Backend.
//
// The server speaks the protocol; a Backend decides who may log in, which
// recipients are accepted and where accepted mail goes.
package smtpserver

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/mailcheck/mailcheck/reference/loginthrottle"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxMessageBytes = 32 << 20
	// RFC 5321 §4.5.3.1.8: a server must accept at least 100 recipients.
	DefaultMaxRecipients  = 100
	DefaultMaxConnections = 1000
	// RFC 5321 §4.5.3.2.7: the server timeout should be at least 5 minutes.
	DefaultIdleTimeout      = 5 * time.Minute
	DefaultAuthFailureDelay = time.Second
	// DefaultDataTimeout bounds the whole message after DATA: 32 MiB at
	// about 150 kbit/s.
	DefaultDataTimeout = 30 * time.Minute
)

// Options configure a Server. The zero value of every field is usable.
type Options struct {
	// Hostname is the name the server gives in its greeting, EHLO reply and
	// Received headers. Default: os.Hostname.
	Hostname string
	// MaxMessageBytes is the largest message accepted, advertised with SIZE
	// (RFC 1870). Default DefaultMaxMessageBytes.
	MaxMessageBytes int64
	// MaxRecipients per transaction; more get 452 4.5.3 (RFC 5321
	// §4.5.3.1.10). Values under 100 are raised to 100, the RFC minimum.
	MaxRecipients int
	// MaxConnections is the number of concurrent sessions; a connection
	// beyond it is answered 421 and closed. Default DefaultMaxConnections.
	MaxConnections int
	// IdleTimeout bounds the wait for each command line, from its first
	// octet to its CRLF (RFC 5321 §4.5.3.2: at least 5 minutes), and each
	// read of DATA; a client that trickles a line gets 421 at the end of it
	// as an idle one does. Default DefaultIdleTimeout.
	IdleTimeout time.Duration
	// DataTimeout bounds the whole message after 354, however steadily it
	// trickles in; beyond it the client gets 421 and the connection is
	// closed. Default DefaultDataTimeout.
	DataTimeout time.Duration
	// TLSConfig enables STARTTLS (RFC 3207) when set.
	TLSConfig *tls.Config
	// ImplicitTLS makes every connection start with a TLS handshake
	// (submissions on port 465, RFC 8314); TLSConfig must be set.
	ImplicitTLS bool
	// InsecureAuth offers AUTH on connections without TLS. Only for tests on
	// loopback: it sends passwords in clear text.
	InsecureAuth bool
	// AuthFailureDelay is slept before a 535 reply, to slow down password
	// guessing: the delay of a client's first failure, doubling with each
	// further failure from the same client address (see LoginThrottle).
	// Default DefaultAuthFailureDelay; negative means none.
	AuthFailureDelay time.Duration
	// LoginThrottle counts failed logins per client address and decides
	// the delay before each 535; share one between the protocols of a
	// server so a client cannot escape its delay by changing protocol.
	// Default: a throttle of this server's own, with AuthFailureDelay as
	// its base.
	LoginThrottle *loginthrottle.Throttle
	// MaxTextLine is the longest text line taken in DATA, CRLF included;
	// a message with a longer line is refused with 554. Values under 1000,
	// the RFC 5321 §4.5.3.1.6 minimum, are raised to 1000 (the default);
	// §4.5.3.1 lets a server take longer lines.
	MaxTextLine int
	// Logger receives one line per session event of note. Default: discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.MaxRecipients < DefaultMaxRecipients {
		o.MaxRecipients = DefaultMaxRecipients
	}
	if o.MaxTextLine < maxTextLine {
		o.MaxTextLine = maxTextLine
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.DataTimeout <= 0 {
		o.DataTimeout = DefaultDataTimeout
	}
	if o.AuthFailureDelay == 0 {
		o.AuthFailureDelay = DefaultAuthFailureDelay
	}
	if o.LoginThrottle == nil {
		o.LoginThrottle = loginthrottle.New(loginthrottle.Options{Base: o.AuthFailureDelay})
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
