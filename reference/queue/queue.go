// Package queue is the reference server's durable outgoing mail queue and
// its runner. Enqueue makes a message durable before it returns, so the
// SMTP server may answer 250 (RFC 5321 §6.1: once the server accepts a
// message it takes responsibility for delivering it or reporting the
// failure). Run delivers queued mail with the relay client, retries
// temporary failures with exponential backoff and returns permanent ones
// to the sender as RFC 3464 delivery status notifications.
package queue

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mailcheck/mailcheck/reference/durable"
	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
)

// Defaults for Options.
const (
	DefaultRetryBase   = time.Minute
	DefaultRetryMax    = time.Hour
	DefaultExpire      = 5 * 24 * time.Hour
	DefaultMaxSessions = 16
)

// Options configure a Queue.
type Options struct {
	// Dir holds the queue files; it is created if missing. Required.
	Dir string
	// Committer publishes and removes queue files durably. Nil means a new
	// one; share the server's so directory fsyncs are group-committed.
	Committer *durable.Committer
	// Hostname is the name sent with EHLO and the Reporting-MTA of bounces.
	// Empty means os.Hostname().
	Hostname string
	// Routes maps a recipient domain to a "host:port" that takes its mail
	// instead of the domain's MX hosts (see relay.Resolve).
	Routes map[string]string
	// Resolver looks up MX records and host addresses. Nil means
	// net.DefaultResolver.
	Resolver *net.Resolver
	// RetryBase is the delay after the first temporary failure; each
	// further failure doubles it, up to RetryMax. Zero means
	// DefaultRetryBase and DefaultRetryMax.
	RetryBase, RetryMax time.Duration
	// Expire is how long a message may stay queued: a temporary failure
	// after that turns into a bounce (RFC 5321 §4.5.4.1 suggests at least
	// 4-5 days). Zero means DefaultExpire.
	Expire time.Duration
	// ConnectTimeout and CommandTimeout bound each connect and each network
	// read or write of a delivery (see relay.Options). Zero means the relay
	// defaults.
	ConnectTimeout, CommandTimeout time.Duration
	// TLSConfig is used for STARTTLS with remote servers; nil means
	// opportunistic TLS without verification (see relay.Options).
	TLSConfig *tls.Config
	// MaxSessions bounds how many domains are delivered to at the same
	// time (one session per domain). Zero means DefaultMaxSessions.
	MaxSessions int
	// Bounce delivers a bounce message (a complete RFC 5322 message with
	// CRLF line ends) to sender; the caller decides how, typically into
	// the sender's local mailbox. If it returns an error, the bounce is
	// logged and retried later with the entry kept on disk. Nil means
	// bounces are only logged.
	Bounce func(ctx context.Context, sender string, msg []byte) error
	// Logger receives deliveries, failures and bounces. Nil discards.
	Logger *slog.Logger
	// Now returns the current time; tests set it to move the clock. Nil
	// means time.Now. Only retry and expiry decisions use it; waiting uses
	// real timers.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Committer == nil {
		o.Committer = durable.New()
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
		if o.Hostname == "" {
			o.Hostname = "localhost"
		}
	}
	if o.RetryBase <= 0 {
		o.RetryBase = DefaultRetryBase
	}
	if o.RetryMax <= 0 {
		o.RetryMax = max(DefaultRetryMax, o.RetryBase)
	}
	if o.Expire <= 0 {
		o.Expire = DefaultExpire
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Queue is the outgoing queue. Its methods are safe for concurrent use.
type Queue struct {
	opts Options
	log  *slog.Logger
	// kick wakes the runner; it holds at most one pending wake-up.
	kick chan struct{}

	mu      sync.Mutex
	entries map[string]*entry
	// active holds the domains that have a delivery session running.
	active map[string]bool
}

// Open opens the queue in opts.Dir, loading the entries left by an earlier
// process and removing its unfinished temporary files.
func Open(opts Options) (*Queue, error) {
	if opts.Dir == "" {
		return nil, errors.New("queue: Options.Dir is required")
	}
	opts = opts.withDefaults()
	q := &Queue{
		opts:    opts,
		log:     opts.Logger,
		kick:    make(chan struct{}, 1),
		entries: make(map[string]*entry),
		active:  make(map[string]bool),
	}
	if err := opts.Committer.MkdirAll(opts.Dir); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	entries, err := q.load()
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	for _, e := range entries {
		q.entries[e.id] = e
	}
	return q, nil
}

// Enqueue stores a message for delivery to rcpts and returns once it is on
// stable storage. The recipients are split by domain into one entry each,
// since each domain is delivered (and may fail) on its own. msg is the
// message with CRLF line ends; body8bit reports BODY=8BITMIME (RFC 6152).
// from is the reverse-path, "" for the null path.
func (q *Queue) Enqueue(from string, rcpts []string, body8bit bool, msg [][]byte) error {
	if len(rcpts) == 0 {
		return errors.New("queue: no recipients")
	}
	now := q.opts.Now()
	var newEntries []*entry
	for _, group := range groupByDomain(rcpts) {
		if group.domain == "" {
			return fmt.Errorf("queue: recipient %q has no domain", group.rcpts[0])
		}
		newEntries = append(newEntries, &entry{
			id: newID(now),
			env: envelope{
				From:     from,
				Rcpts:    group.rcpts,
				Domain:   group.domain,
				Body8bit: body8bit,
				Created:  now,
			},
			state: retryState{Pending: group.rcpts},
		})
	}
	if err := q.writeEntries(newEntries, msg); err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	q.mu.Lock()
	for _, e := range newEntries {
		q.entries[e.id] = e
	}
	q.mu.Unlock()
	for _, e := range newEntries {
		q.log.Info("queue: enqueued", "id", e.id, "from", e.env.From, "rcpts", e.env.Rcpts)
	}
	q.Kick()
	return nil
}

type domainGroup struct {
	domain string
	rcpts  []string
}

// groupByDomain splits recipients by domain (compared without regard to
// case, RFC 5321 §2.4), keeping the order of first appearance.
func groupByDomain(rcpts []string) []domainGroup {
	var groups []domainGroup
	for _, rcpt := range rcpts {
		domain := smtpaddr.Domain(rcpt)
		i := slices.IndexFunc(groups, func(g domainGroup) bool { return g.domain == domain })
		if i < 0 {
			groups = append(groups, domainGroup{domain: domain})
			i = len(groups) - 1
		}
		groups[i].rcpts = append(groups[i].rcpts, rcpt)
	}
	return groups
}

// Kick wakes the runner to look for due entries.
func (q *Queue) Kick() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// Len returns the number of entries in the queue, in flight or not.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.entries)
}

// EntryInfo describes one queue entry.
type EntryInfo struct {
	ID     string
	From   string
	Domain string
	// Rcpts are the recipients still to be delivered.
	Rcpts       []string
	Created     time.Time
	Attempts    int
	NextAttempt time.Time
	LastError   string
	InFlight    bool
}

// Entries returns a snapshot of the queue, oldest first.
func (q *Queue) Entries() []EntryInfo {
	q.mu.Lock()
	defer q.mu.Unlock()
	infos := make([]EntryInfo, 0, len(q.entries))
	for _, e := range q.entries {
		infos = append(infos, EntryInfo{
			ID:          e.id,
			From:        e.env.From,
			Domain:      e.env.Domain,
			Rcpts:       slices.Clone(e.state.Pending),
			Created:     e.env.Created,
			Attempts:    e.state.Attempts,
			NextAttempt: e.state.NextAttempt,
			LastError:   e.state.LastError,
			InFlight:    e.inFlight,
		})
	}
	slices.SortFunc(infos, func(a, b EntryInfo) int { return strings.Compare(a.ID, b.ID) })
	return infos
}

// Flush makes every entry due now and wakes the runner. Entries in flight
// are left alone: their outcome decides when they are next due.
func (q *Queue) Flush() {
	q.mu.Lock()
	for _, e := range q.entries {
		if !e.inFlight {
			e.state.NextAttempt = time.Time{}
		}
	}
	q.mu.Unlock()
	q.Kick()
}
