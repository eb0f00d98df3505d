// Package imapbackend serves the reference server's mailboxes over IMAP
// (RFC 9051 IMAP4rev2 and RFC 3501 IMAP4rev1) with go-imap's imapserver:
// this package is the backend, the Session that imapserver drives, over the
// same mailstore that SMTP delivers to and POP3 reads.
//
// Mailbox state — folders, flags, keywords, subscriptions, UIDs and
// UIDVALIDITY — lives in the mailstore, so it persists across sessions and
// restarts. Every change to a mailbox, whoever makes it (an SMTP delivery, a
// POP3 QUIT, another IMAP session), reaches every session that has it
// selected through the session's own view of the mailbox (view.go), in one
// order for all, and is sent as EXISTS, EXPUNGE or FETCH FLAGS when the
// protocol allows it.
package imapbackend

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/mailcheck/mailcheck/reference/loginthrottle"
	"github.com/mailcheck/mailcheck/reference/mailstore"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxConnections   = 1000
	DefaultMaxAppendBytes   = 32 << 20
	DefaultAuthFailureDelay = time.Second
)

// Authenticator checks a user name and password and returns the canonical
// user (the mailstore owner), or an error for bad credentials. With the
// error it may return the canonical name of an account that exists (a
// wrong password), for the log; the name as given never is, as it may be
// a password typed into the wrong field.
type Authenticator func(ctx context.Context, username, password string) (string, error)

// Options configure an IMAP server over a mailstore.
type Options struct {
	// Store holds the mailboxes. Required.
	Store *mailstore.Store
	// Authenticate checks LOGIN and AUTHENTICATE PLAIN credentials. Required.
	Authenticate Authenticator
	// TLSConfig enables STARTTLS (and is used for implicit TLS listeners).
	TLSConfig *tls.Config
	// InsecureAuth allows LOGIN and AUTHENTICATE without TLS. Without it
	// the server advertises LOGINDISABLED until STARTTLS (RFC 9051 §6.2.3)
	// and refuses both with NO [PRIVACYREQUIRED]; a server without
	// TLSConfig then accepts no login at all. Only for loopback and tests:
	// it lets passwords cross the network in clear text.
	InsecureAuth bool
	// MaxConnections is the number of concurrent sessions; a connection
	// beyond it gets "* BYE [UNAVAILABLE]" in place of the greeting
	// (RFC 9051 §7.1.5, RFC 5530) and is closed. Default
	// DefaultMaxConnections.
	MaxConnections int
	// MaxAppendBytes is the largest message APPEND takes, advertised as
	// APPENDLIMIT (RFC 7889). A larger literal is refused with
	// NO [TOOBIG] from its announced size, before any of it is read or
	// anything is allocated for it. Default DefaultMaxAppendBytes; at most
	// 4 GiB - 1, as APPENDLIMIT is 32-bit in go-imap.
	MaxAppendBytes int64
	// AuthFailureDelay is slept before the NO to a failed LOGIN or
	// AUTHENTICATE: the delay of a client's first failure, doubling with
	// each further failure from the same client address (see
	// LoginThrottle). Default DefaultAuthFailureDelay; negative means none.
	AuthFailureDelay time.Duration
	// LoginThrottle counts failed logins per client address and decides
	// each delay; share one between the protocols of a server. Default: a
	// throttle of this server's own, with AuthFailureDelay as its base.
	LoginThrottle *loginthrottle.Throttle
	// Logger receives server errors. Default: discard.
	Logger *slog.Logger
	// WrapSession, when set, wraps each session before go-imap drives it,
	// with the connection it serves: the place for what an embedder adds
	// around the mailbox operations (auditing, metrics, a policy of its
	// own). The wrapper must pass Close on, which gives the session's
	// MaxConnections slot back, and must keep the optional interfaces the
	// backend's session implements (imapserver.SessionIMAP4rev2,
	// SessionUnauthenticate, SessionAppendLimit): go-imap advertises their
	// commands and fails a session without them.
	WrapSession func(s imapserver.Session, conn *imapserver.Conn) imapserver.Session
}

// Capabilities the backend implements, beyond what imapserver adds itself.
// IMAP4rev2 implies NAMESPACE, MOVE, LIST-STATUS, CHILDREN, ESEARCH,
// SEARCHRES, UIDPLUS, BINARY, STATUS=SIZE and LIST-EXTENDED: each is
// honoured here.
var capabilities = imap.CapSet{
	imap.CapIMAP4rev1:      {},
	imap.CapIMAP4rev2:      {},
	imap.CapNamespace:      {},
	imap.CapUIDPlus:        {},
	imap.CapESearch:        {},
	imap.CapSearchRes:      {},
	imap.CapListExtended:   {},
	imap.CapListStatus:     {},
	imap.CapMove:           {},
	imap.CapStatusSize:     {},
	imap.CapBinary:         {},
	imap.CapChildren:       {},
	imap.CapLiteralPlus:    {},
	imap.CapUnauthenticate: {},
}

// Backend hands out sessions.
type Backend struct {
	opts Options

	// sessions counts the live sessions, for MaxConnections.
	sessions atomic.Int64

	// recent is each mailbox's \Recent claim line (recent.go).
	recent recentBooks
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.MaxAppendBytes <= 0 {
		o.MaxAppendBytes = DefaultMaxAppendBytes
	}
	o.MaxAppendBytes = min(o.MaxAppendBytes, math.MaxUint32)
	if o.AuthFailureDelay == 0 {
		o.AuthFailureDelay = DefaultAuthFailureDelay
	}
	if o.LoginThrottle == nil {
		o.LoginThrottle = loginthrottle.New(loginthrottle.Options{Base: o.AuthFailureDelay})
	}
	return o
}

// errTooManyConnections replaces the greeting of a connection over
// MaxConnections: BYE, "the server is not willing to accept a connection"
// (RFC 9051 §7.1.5), UNAVAILABLE as it is temporary (RFC 5530 §3).
var errTooManyConnections = &imap.Error{Type: imap.StatusResponseTypeBye, Code: imap.ResponseCodeUnavailable, Text: "Too many connections, try again later"}

// NewServer returns an imapserver.Server over opts.Store.
func NewServer(opts Options) *imapserver.Server {
	opts = opts.withDefaults()
	b := &Backend{opts: opts}
	return imapserver.New(&imapserver.Options{
		NewSession: func(conn *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			// imapserver calls Close only for a session it got, so a
			// refused connection gives its slot back here.
			if b.sessions.Add(1) > int64(opts.MaxConnections) {
				b.sessions.Add(-1)
				return nil, nil, errTooManyConnections
			}
			var s imapserver.Session = &session{backend: b, conn: conn}
			if opts.WrapSession != nil {
				s = opts.WrapSession(s, conn)
			}
			return s, nil, nil
		},
		Caps:         capabilities,
		Logger:       slogPrintf{opts.Logger},
		TLSConfig:    opts.TLSConfig,
		InsecureAuth: opts.InsecureAuth,
	})
}

// slogPrintf adapts slog to imapserver.Logger.
type slogPrintf struct{ l *slog.Logger }

func (s slogPrintf) Printf(format string, args ...any) {
	s.l.Warn(fmt.Sprintf(format, args...), "part", "imap")
}
