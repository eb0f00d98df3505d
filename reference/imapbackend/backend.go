// Package imapbackend serves the reference server's mailboxes over IMAP
// (RFC 9051 IMAP4rev2 and RFC 3501 IMAP4rev1) with go-imap's imapserver:
// this package is the backend, the Session that imapserver drives, over the
// same mailstore that SMTP delivers to and POP3 reads.
//
// Mailbox state — folders, flags, keywords, subscriptions, UIDs and
// UIDVALIDITY — lives in the mailstore, so it persists across sessions and
// restarts. Every change to a mailbox, whoever makes it (an SMTP delivery, a
// POP3 QUIT, another IMAP session), reaches the sessions that have it
// selected through one imapserver.MailboxTracker per mailbox, and is sent
// as EXISTS, EXPUNGE or FETCH FLAGS when the protocol allows it.
package imapbackend

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/mailcheck/mailcheck/reference/mailstore"
)

// Authenticator checks a user name and password and returns the canonical
// user (the mailstore owner), or an error for bad credentials.
type Authenticator func(ctx context.Context, username, password string) (string, error)

// Options configure an IMAP server over a mailstore.
type Options struct {
	// Store holds the mailboxes. Required.
	Store *mailstore.Store
	// Authenticate checks LOGIN and AUTHENTICATE PLAIN credentials. Required.
	Authenticate Authenticator
	// TLSConfig enables STARTTLS (and is used for implicit TLS listeners).
	TLSConfig *tls.Config
	// InsecureAuth allows LOGIN and AUTHENTICATE without TLS. Without it,
	// and with TLSConfig set, the server advertises LOGINDISABLED until
	// STARTTLS (RFC 9051 §6.2.3).
	InsecureAuth bool
	// Logger receives server errors. Default: discard.
	Logger *slog.Logger
	// Faults break the server on purpose, for the conformance suite's
	// tests; the zero value is the correct server.
	Faults Faults
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

// Backend hands out sessions and keeps one tracker per mailbox.
type Backend struct {
	opts Options

	mu       sync.Mutex
	trackers map[*mailstore.Mailbox]*imapserver.MailboxTracker

	// For faults only: who created which mailbox, and how many times a
	// mailbox was selected.
	created createdBy
	selects atomic.Uint32
}

// NewServer returns an imapserver.Server over opts.Store.
func NewServer(opts Options) *imapserver.Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Backend{opts: opts, trackers: make(map[*mailstore.Mailbox]*imapserver.MailboxTracker)}
	return imapserver.New(&imapserver.Options{
		NewSession: func(conn *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &session{backend: b, conn: conn}, nil, nil
		},
		Caps:         capabilities,
		Logger:       slogPrintf{opts.Logger},
		TLSConfig:    opts.TLSConfig,
		InsecureAuth: opts.InsecureAuth || opts.TLSConfig == nil,
	})
}

// tracker returns mb's tracker, registering it with mb on first use.
func (b *Backend) tracker(mb *mailstore.Mailbox) *imapserver.MailboxTracker {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.trackers[mb]; t != nil {
		return t
	}
	var t *imapserver.MailboxTracker
	mb.Observe(func(current []mailstore.Message) mailstore.Observer {
		t = imapserver.NewMailboxTracker(uint32(len(current)))
		return trackerObserver{t: t, noFlagUpdates: b.opts.Faults.NoFlagUpdates}
	})
	b.trackers[mb] = t
	return t
}

// slogPrintf adapts slog to imapserver.Logger.
type slogPrintf struct{ l *slog.Logger }

func (s slogPrintf) Printf(format string, args ...any) {
	s.l.Warn(fmt.Sprintf(format, args...), "part", "imap")
}
