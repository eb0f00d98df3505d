package queue

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mailcheck/mailcheck/reference/relay"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// idleWake is the longest the runner sleeps without looking at the queue.
const idleWake = 30 * time.Second

// Run delivers queued mail until ctx is done. It wakes when mail is
// enqueued (Kick), when the earliest retry is due, and at least every 30
// seconds. Due entries are grouped by domain, and each domain gets one
// session that carries all of them (one EHLO, then MAIL/RCPT/DATA per
// message); domains are delivered in parallel, at most MaxSessions at a
// time and one session per domain.
//
// When ctx is done, Run stops starting transactions and returns once the
// transactions in flight have finished or timed out: cutting one off after
// the final dot would leave its outcome unknown (RFC 1047).
func (q *Queue) Run(ctx context.Context) {
	var sessions sync.WaitGroup
	timer := time.NewTimer(idleWake)
	defer timer.Stop()
	for {
		wait := q.dispatch(ctx, &sessions)
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			sessions.Wait()
			return
		case <-q.kick:
		case <-timer.C:
		}
	}
}

// dispatch starts a session for every domain with due entries and no
// session yet, and returns how long to sleep until the next entry is due.
func (q *Queue) dispatch(ctx context.Context, sessions *sync.WaitGroup) time.Duration {
	now := q.opts.Now()
	wait := idleWake
	q.mu.Lock()
	defer q.mu.Unlock()
	due := make(map[string][]*entry)
	for _, e := range q.entries {
		switch {
		case e.inFlight:
		case e.state.NextAttempt.After(now):
			wait = min(wait, e.state.NextAttempt.Sub(now))
		case q.active[e.env.Domain]:
			// The domain's session kicks the runner when it ends.
		default:
			due[e.env.Domain] = append(due[e.env.Domain], e)
		}
	}
	domains := make([]string, 0, len(due))
	for domain, batch := range due {
		slices.SortFunc(batch, func(a, b *entry) int { return strings.Compare(a.id, b.id) })
		domains = append(domains, domain)
	}
	// Oldest mail first when sessions are scarce.
	slices.SortFunc(domains, func(a, b string) int { return strings.Compare(due[a][0].id, due[b][0].id) })
	for _, domain := range domains {
		if len(q.active) >= q.opts.MaxSessions {
			break // a session that ends kicks the runner
		}
		batch := due[domain]
		for _, e := range batch {
			e.inFlight = true
		}
		q.active[domain] = true
		sessions.Add(1)
		go func() {
			defer sessions.Done()
			q.deliverDomain(ctx, domain, batch)
			q.mu.Lock()
			delete(q.active, domain)
			q.mu.Unlock()
			q.Kick()
		}()
	}
	return wait
}

// deliverDomain delivers the due entries of one domain over one session.
func (q *Queue) deliverDomain(ctx context.Context, domain string, batch []*entry) {
	// Transactions run to their end even when ctx is cancelled; the
	// command timeout still bounds every step.
	txCtx := context.WithoutCancel(ctx)
	var toSend []*entry
	for _, e := range batch {
		if len(e.state.Pending) == 0 {
			// Only a bounce is owed.
			q.settle(txCtx, e, attempt{})
		} else {
			toSend = append(toSend, e)
		}
	}
	if len(toSend) == 0 {
		return
	}
	log := q.log.With("domain", domain)
	dest, err := relay.Resolve(ctx, domain, q.opts.Routes, q.opts.Resolver)
	if err != nil {
		q.failAll(ctx, txCtx, toSend, err, "")
		return
	}
	client, err := relay.Dial(ctx, dest, relay.Options{
		Hostname:       q.opts.Hostname,
		ConnectTimeout: q.opts.ConnectTimeout,
		CommandTimeout: q.opts.CommandTimeout,
		TLSConfig:      q.opts.TLSConfig,
		Resolver:       q.opts.Resolver,
		Logger:         q.log,
	})
	if err != nil {
		q.failAll(ctx, txCtx, toSend, err, "")
		return
	}
	defer func() {
		if err := client.Quit(); err != nil {
			log.Debug("queue: QUIT failed", "host", client.Host(), "err", err)
		}
	}()
	host := hostOnly(client.Host())
	for i, e := range toSend {
		if ctx.Err() != nil || !client.Usable() {
			// Not attempted: due again at once, on a new session.
			q.release(toSend[i:])
			return
		}
		msg, err := q.readMessage(e)
		if err != nil {
			log.Error("queue: cannot read queued message", "id", e.id, "err", err)
			q.settle(txCtx, e, outcome(e.state.Pending, nil, err, ""))
			continue
		}
		perRcpt, err := client.Send(txCtx, e.env.From, e.state.Pending, e.env.Body8bit, [][]byte{msg})
		q.settle(txCtx, e, outcome(e.state.Pending, perRcpt, err, host))
	}
}

// failAll settles every entry with the failure of the whole session, or
// releases them untouched if the failure is only that ctx ended.
func (q *Queue) failAll(ctx, txCtx context.Context, entries []*entry, err error, host string) {
	if ctx.Err() != nil {
		q.release(entries)
		return
	}
	for _, e := range entries {
		q.settle(txCtx, e, outcome(e.state.Pending, nil, err, host))
	}
}

// release hands entries back without counting an attempt.
func (q *Queue) release(entries []*entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range entries {
		e.inFlight = false
	}
}

// attempt is the outcome of one delivery attempt of an entry.
type attempt struct {
	delivered []string
	failed    []failure
	deferred  []deferral
}

// deferral is a recipient that failed temporarily, and why.
type deferral struct {
	rcpt      string
	err       error
	remoteMTA string
}

// outcome sorts the recipients of a transaction by result: the
// per-recipient reply decides first, then the transaction's error; 5xx
// is permanent, anything else (4xx, network errors, timeouts) temporary
// (RFC 5321 §4.2.1, §4.5.4.1).
func outcome(rcpts []string, perRcpt []error, err error, host string) attempt {
	var a attempt
	for i, rcpt := range rcpts {
		rcptErr := err
		if i < len(perRcpt) && perRcpt[i] != nil {
			rcptErr = perRcpt[i]
		}
		switch {
		case rcptErr == nil:
			a.delivered = append(a.delivered, rcpt)
		case relay.IsPermanent(rcptErr):
			a.failed = append(a.failed, permanentFailure(rcpt, rcptErr, host))
		default:
			a.deferred = append(a.deferred, deferral{rcpt: rcpt, err: rcptErr, remoteMTA: host})
		}
	}
	return a
}

func permanentFailure(rcpt string, err error, host string) failure {
	f := failure{Rcpt: rcpt, Status: "5.0.0", Reason: err.Error()}
	var reply *smtpreply.Reply
	if errors.As(err, &reply) {
		// RFC 3463 §3.1: the enhanced code when the server sent one.
		if strings.HasPrefix(reply.Enhanced, "5.") {
			f.Status = reply.Enhanced
		}
		f.Diagnostic = reply.String()
		if host != "" {
			f.RemoteMTA = host
			f.Reason = "host " + host + " said: " + reply.String()
		}
	}
	return f
}

// expiredFailure turns a temporary failure of an entry past Expire into a
// permanent one: RFC 3463 X.4.7, "Delivery time expired".
func expiredFailure(d deferral, queued time.Duration) failure {
	f := failure{
		Rcpt:   d.rcpt,
		Status: "5.4.7",
		Reason: fmt.Sprintf("delivery time expired after %v in the queue; last error: %v", queued.Round(time.Second), d.err),
	}
	var reply *smtpreply.Reply
	if errors.As(d.err, &reply) {
		f.Diagnostic = reply.String()
		f.RemoteMTA = d.remoteMTA
	}
	return f
}

// settle records the outcome of an attempt: delivered recipients are done,
// failed ones are bounced, deferred ones retried later (or bounced once the
// entry has expired). The entry's files go only when nothing is left to
// deliver and no bounce is owed.
func (q *Queue) settle(ctx context.Context, e *entry, a attempt) {
	now := q.opts.Now()
	log := q.log.With("id", e.id, "domain", e.env.Domain)
	state := e.state.clone()
	if len(a.delivered) > 0 {
		log.Info("queue: delivered", "rcpts", a.delivered)
	}
	state.Pending = nil
	for _, d := range a.deferred {
		state.Pending = append(state.Pending, d.rcpt)
	}
	if len(a.deferred) > 0 {
		state.LastError = a.deferred[0].err.Error()
		if age := now.Sub(e.env.Created); age >= q.opts.Expire {
			for _, d := range a.deferred {
				a.failed = append(a.failed, expiredFailure(d, age))
			}
			state.Pending = nil
		} else {
			log.Info("queue: deferred", "rcpts", state.Pending, "err", state.LastError)
		}
	}
	for _, f := range a.failed {
		log.Info("queue: failed", "rcpt", f.Rcpt, "status", f.Status, "reason", f.Reason)
	}
	state.Failed = append(state.Failed, a.failed...)

	if len(state.Failed) > 0 && e.env.From == "" {
		// RFC 5321 §4.5.5: a message with a null reverse-path (itself a
		// notification) must never be bounced.
		log.Warn("queue: dropping failed recipients of a null-sender message", "rcpts", failedRcpts(state.Failed))
		state.Failed = nil
	}
	bounceFailed := false
	if len(state.Failed) > 0 {
		if len(a.failed) > 0 || len(a.delivered) > 0 {
			// Record the outcome before bouncing, so a crash during the
			// bounce neither redelivers nor forgets the failure.
			q.persist(e, state)
		}
		if err := q.bounce(ctx, e, state.Failed); err != nil {
			log.Error("queue: bounce not delivered; will retry", "sender", e.env.From, "err", err)
			state.LastError = "bounce: " + err.Error()
			bounceFailed = true
		} else {
			state.Failed = nil
		}
	}

	if len(state.Pending) == 0 && !bounceFailed {
		if err := q.removeFiles(e); err != nil {
			// The entry is finished; leaving it in memory would deliver it
			// again. A restart may still find the files.
			log.Error("queue: cannot remove finished entry", "err", err)
		}
		q.mu.Lock()
		delete(q.entries, e.id)
		q.mu.Unlock()
		return
	}
	state.Attempts++
	state.NextAttempt = now.Add(q.backoff(state.Attempts))
	q.persist(e, state)
	q.mu.Lock()
	e.state = state
	e.inFlight = false
	q.mu.Unlock()
}

// persist writes the state file; a failure is logged and the in-memory
// state stays authoritative (a restart then repeats work, never loses it).
func (q *Queue) persist(e *entry, state retryState) {
	if err := q.saveState(e, state); err != nil {
		q.log.Error("queue: cannot save retry state", "id", e.id, "err", err)
	}
}

// backoff is the delay after the given number of failed attempts:
// RetryBase·2^(attempts-1), at most RetryMax.
func (q *Queue) backoff(attempts int) time.Duration {
	delay := q.opts.RetryBase
	for i := 1; i < attempts && delay < q.opts.RetryMax; i++ {
		delay *= 2
	}
	return min(delay, q.opts.RetryMax)
}

func failedRcpts(failures []failure) []string {
	rcpts := make([]string, len(failures))
	for i, f := range failures {
		rcpts[i] = f.Rcpt
	}
	return rcpts
}

func hostOnly(hostport string) string {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	return host
}
