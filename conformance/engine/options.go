package engine

import (
	"crypto/tls"
	"path"
	"time"
)

// Options configure a conformance run. The zero value of each field is
// usable unless stated.
type Options struct {
	// From is the reverse-path of the messages checks send. Default
	// "conform@mailcheck.invalid".
	From string
	// Rcpt is an address the server accepts, for checks that send mail;
	// checks that need one skip without it.
	Rcpt string
	// User and Password authenticate (SMTP AUTH); checks that need them
	// skip without them.
	User, Password string
	// Readback is a mailbox where mail sent to Rcpt can be read, for checks
	// that follow a message end to end (pop3:// or imap:// with user and
	// password); those checks skip without it.
	Readback *Target
	// Seed is an SMTP server that delivers to the POP3/IMAP target's
	// mailbox: checks that need messages send their own to Rcpt through it
	// and wait for them to arrive. Without it they use messages already
	// there, and checks that would delete mail skip: the suite never
	// deletes mail it did not put there.
	Seed *Target
	// ReadbackTimeout bounds the wait for a message to arrive there.
	// Default DefaultReadbackTimeout.
	ReadbackTimeout time.Duration
	// State is what the checks of one run share (facts established once,
	// the messages sent). conformance.RunTargets sets a fresh one per run
	// when it is nil.
	State *RunState
	// Only and Skip select checks by ID glob (path.Match syntax, e.g.
	// "smtp.data.*"). Empty Only means all.
	Only, Skip []string
	// Parallel bounds how many checks run at once. Default 8. The run
	// serves a server that slows down or says it is busy fewer checks at
	// once (see Limiter), and grows back to Parallel when it recovers.
	Parallel int
	// Timeout bounds each check. Default DefaultCheckTimeout (15 min),
	// which fits the RFC read timeouts of a greeting and the longest
	// phase.
	Timeout time.Duration
	// ReadTimeout, when set, bounds every wait for the server within a
	// check, in place of the per-phase defaults grounded in the RFCs (see
	// Phase: 5 min for a greeting or a reply, 2 min for SMTP DATA's 354,
	// 10 min for the end of data). Set it short only where a server that
	// never answers must cost little (tests, a known-fast server).
	ReadTimeout time.Duration
	// Retry bounds how a check that met a busy server is run again.
	// Default DefaultRetry.
	Retry Retry
	// TLS configures the client side of STARTTLS and implicit TLS
	// (certificate verification, CA pool). Default: verify against the
	// system roots with the target's host name.
	TLS *tls.Config
	// ClientName is the EHLO/HELO name. Default "conform.mailcheck.test".
	ClientName string
	// MaxReceive bounds the octets one check reads from servers, over all
	// its connections; past it reads fail with ErrReceiveLimit. Default
	// DefaultMaxReceive.
	MaxReceive int64
}

// DefaultMaxReceive is more than any check reads from a conforming server
// (the most is a POP3 LIST or UIDL listing: about 2 MB for 100,000
// messages) and keeps a server that streams without end from filling
// memory: checks hold what they read (a POP3 multi-line body, IMAP
// literals) until they judge it.
const DefaultMaxReceive = 4 << 20

// DefaultReadbackTimeout bounds the wait for a message sent over SMTP to
// be readable in the mailbox. RFC 5321 sets no bound on delivery; in
// practice a queue manager hands fresh mail to local delivery at once, but
// an mbox delivery waits for the mailbox lock that every POP3 session
// holds for its length (RFC 1939 §8), and content filters (spam, virus)
// take seconds to tens of seconds per message under load. A minute covers
// those, and still ends in a minute the wait for a message a server
// accepted and dropped. The read-back polls with backoff (see
// conformance/readback), so a long limit costs the server nothing.
const DefaultReadbackTimeout = 60 * time.Second

// WithDefaults returns o with zero fields defaulted.
func (o Options) WithDefaults() Options {
	if o.From == "" {
		o.From = "conform@mailcheck.invalid"
	}
	if o.ReadbackTimeout <= 0 {
		o.ReadbackTimeout = DefaultReadbackTimeout
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultCheckTimeout
	}
	if o.Retry.Attempts <= 0 {
		o.Retry = DefaultRetry
	}
	if o.ClientName == "" {
		o.ClientName = "conform.mailcheck.test"
	}
	if o.MaxReceive <= 0 {
		o.MaxReceive = DefaultMaxReceive
	}
	return o
}

// Selected reports whether a check ID passes the Only and Skip globs.
func (o *Options) Selected(id string) bool {
	match := func(globs []string) bool {
		for _, g := range globs {
			if ok, _ := path.Match(g, id); ok || g == id {
				return true
			}
		}
		return false
	}
	if len(o.Only) > 0 && !match(o.Only) {
		return false
	}
	return !match(o.Skip)
}
