// Package pop3server is the reference POP3 server: an RFC 1939 state
// machine with the RFC 2449 extension mechanism (CAPA, RESP-CODES,
// PIPELINING) and RFC 2595 STLS, written by hand so it can be strict where
// common implementations are lenient (exact replies, exact octet counts,
// byte-stuffing, the maildrop lock, deletions only in the UPDATE state).
//
// The server speaks the protocol; a Backend decides who may log in and
// supplies each user's maildrop.
package pop3server

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/mailcheck/mailcheck/reference/loginthrottle"
)

// Defaults for Options fields left zero.
const (
	// RFC 1939 §3: the autologout timer must be at least 10 minutes.
	DefaultIdleTimeout      = 10 * time.Minute
	DefaultMaxConnections   = 1000
	DefaultAuthFailureDelay = time.Second
)

// Options configure a Server. The zero value of every field is usable.
type Options struct {
	// Hostname is the name the server gives in its greeting and sign-off.
	// Default: os.Hostname.
	Hostname string
	// IdleTimeout is the inactivity autologout timer (RFC 1939 §3): a
	// session that sends no command for this long is closed without a
	// reply and without entering the UPDATE state, so nothing is deleted.
	// It also bounds the STLS and implicit TLS handshakes and each write.
	// Default DefaultIdleTimeout; RFC 1939 asks for at least 10 minutes,
	// shorter values are for tests.
	IdleTimeout time.Duration
	// TLSConfig enables STLS (RFC 2595 §4) when set.
	TLSConfig *tls.Config
	// ImplicitTLS makes every connection start with a TLS handshake, before
	// the greeting (pop3s on port 995, RFC 8314); TLSConfig must be set.
	ImplicitTLS bool
	// InsecureAuth allows USER and PASS on a connection without TLS.
	// Without it such a connection must use STLS first: USER and PASS get
	// -ERR [AUTH] and CAPA does not list USER (RFC 2595 §4); a server
	// without TLSConfig then accepts no login at all. Only for loopback
	// and tests: it lets passwords cross the network in clear text.
	InsecureAuth bool
	// AuthFailureDelay is slept before the -ERR to a failed PASS, to slow
	// down password guessing: the delay of a client's first failure,
	// doubling with each further failure from the same client address
	// (see LoginThrottle). Default DefaultAuthFailureDelay; negative means
	// none.
	AuthFailureDelay time.Duration
	// LoginThrottle counts failed logins per client address and decides
	// each delay; share one between the protocols of a server. Default: a
	// throttle of this server's own, with AuthFailureDelay as its base.
	LoginThrottle *loginthrottle.Throttle
	// MaxConnections is the number of concurrent sessions; a connection
	// beyond it gets "-ERR [SYS/TEMP] too many connections" in place of the
	// greeting and is closed. Default DefaultMaxConnections.
	MaxConnections int
	// Logger receives one line per session event of note; passwords are
	// never logged. Default: discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
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
