package load

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"math"
	"runtime"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Progress is what a progress display gets about once a second.
type Progress struct {
	Elapsed, Remaining        time.Duration // Remaining is 0 when unknown
	Started, Accepted, Failed int64
	Rate                      float64 // accepted messages per second, last second
	Total                     int64   // messages to send, 0 when unknown
}

// run is the state of one Run.
type run struct {
	opts  Options
	m     *metrics
	rcpts recipients
	runID string

	tickets  chan time.Time // open loop: due times
	stopOnce sync.Once
	stop     chan struct{} // closed to end the run: no message starts
	done     chan struct{} // closed when every session has ended
}

func (r *run) end() { r.stopOnce.Do(func() { close(r.stop) }) }

func (r *run) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// next claims the next message: its sequence number, and when it was due
// (open loop: it waits for that). It reports false when the run is over.
func (r *run) next(ctx context.Context) (int64, time.Time, bool) {
	if r.opts.nothing {
		return 0, time.Time{}, false
	}
	var due time.Time
	if r.tickets != nil {
		var ok bool
		select {
		case due, ok = <-r.tickets:
			if !ok {
				return 0, time.Time{}, false
			}
		case <-r.stop:
			return 0, time.Time{}, false
		case <-ctx.Done():
			return 0, time.Time{}, false
		}
	}
	return r.claim(ctx, due)
}

// claimReady is next without waiting: in open loop it claims a message
// only when one is due already.
func (r *run) claimReady(ctx context.Context) (int64, time.Time, bool) {
	if r.opts.nothing {
		return 0, time.Time{}, false
	}
	var due time.Time
	if r.tickets != nil {
		var ok bool
		select {
		case due, ok = <-r.tickets:
			if !ok {
				return 0, time.Time{}, false
			}
		default:
			return 0, time.Time{}, false
		}
	}
	return r.claim(ctx, due)
}

// claim numbers a message due at due (zero in closed loop: due when it
// starts).
func (r *run) claim(ctx context.Context, due time.Time) (int64, time.Time, bool) {
	if r.stopped() || ctx.Err() != nil {
		return 0, time.Time{}, false
	}
	seq := r.m.started.Add(1)
	if r.opts.Messages > 0 && seq > r.opts.Messages {
		r.m.started.Add(-1)
		r.end()
		return 0, time.Time{}, false
	}
	if !due.IsZero() && time.Since(due) > time.Millisecond {
		// Open loop: no session was free when it was due.
		r.m.late.Add(1)
	}
	return seq, due, true
}

// failOne counts a failed message and ends the run once MaxErrors are.
func (r *run) failOne() {
	if n := r.m.failed.Add(1); r.opts.MaxErrors > 0 && n >= r.opts.MaxErrors {
		r.end()
	}
}

// Run drives the load until a limit is reached or ctx is done (Ctrl-C):
// in both cases it returns what was measured. progress, when not nil, is
// called about once a second. hdrLog, when not nil, gets the transaction
// latency of each second as an HdrHistogram interval.
func Run(ctx context.Context, opts Options, progress func(Progress), hdrLog func(*hdrhistogram.Histogram)) (*Result, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	rcpts, err := parseRecipients(opts.To)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 6)
	rand.Read(id)
	r := &run{opts: opts, m: newMetrics(min(opts.Sessions, 4*runtime.GOMAXPROCS(0), maxShards)), rcpts: rcpts, runID: hex.EncodeToString(id),
		stop: make(chan struct{}), done: make(chan struct{})}
	if opts.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Duration)
		defer cancel()
	}
	if opts.Rate > 0 {
		r.tickets = make(chan time.Time, opts.Sessions)
		go r.schedule(ctx)
	}
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		r.watch(progress, hdrLog)
	}()

	var wg sync.WaitGroup
	for i := range opts.Sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if opts.Ramp > 0 && opts.Rate == 0 {
				// Closed loop ramp: sessions join evenly over the ramp.
				select {
				case <-time.After(opts.Ramp * time.Duration(i) / time.Duration(opts.Sessions)):
				case <-ctx.Done():
					return
				case <-r.stop:
					return
				}
			}
			s := &session{id: i, run: r, shard: r.m.shard(i), comp: newComposer(r.runID, opts.Segment, opts.Size, uint64(i))}
			s.loop(ctx)
		}()
	}
	wg.Wait()
	r.end()
	close(r.done)
	<-watched // no callback after Run returns
	return r.result(), nil
}

// loop sends messages over one connection after another until the run
// ends; a failed connection costs the message it was for, and the next
// message reconnects (after a backoff, so a refusing server is not
// hammered).
func (s *session) loop(ctx context.Context) {
	o := &s.run.opts
	backoff := 10 * time.Millisecond
	var c *conn
	onConn := 0
	quit := func() {
		if c.write(quitCommand) == nil {
			c.check(221)
		}
		c.nc.Close()
		c = nil
	}
	for {
		var t txn
		if s.carried {
			t, s.carried = s.carry, false
			if ctx.Err() != nil {
				// The run ended before it could go again: it never left.
				s.run.m.started.Add(-1)
				break
			}
		} else {
			var ok bool
			if t.seq, t.due, ok = s.run.next(ctx); !ok {
				break
			}
		}
		if c == nil {
			var err error
			if c, err = s.dial(ctx); err != nil {
				if errors.Is(err, errRunOver) {
					// The run ended while connecting: the message never left.
					s.run.m.started.Add(-1)
					break
				}
				s.run.failOne()
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
				case <-s.run.stop:
				}
				backoff = min(2*backoff, time.Second)
				continue
			}
			backoff, onConn = 10*time.Millisecond, 0
		}
		if !s.transactions(ctx, c, t, &onConn) {
			c.nc.Close()
			c = nil
		} else if o.MessagesPerSession > 0 && onConn >= o.MessagesPerSession {
			quit()
		}
	}
	if c != nil {
		quit()
	}
}

// earlyTicket is how early the scheduler issues a ticket rather than
// sleeping for it.
const earlyTicket = 200 * time.Microsecond

// schedule issues due times at the global rate (open loop), ramping up
// over Ramp. Tickets carry when each message was due, so a backlog shows in
// the latency (no coordinated omission).
func (r *run) schedule(ctx context.Context) {
	defer close(r.tickets)
	start := time.Now()
	rate, ramp := r.opts.Rate, r.opts.Ramp.Seconds()
	// dueAt is the time of message k: constant rate, or a linear ramp
	// (rate·t²/2ramp) then constant.
	dueAt := func(k float64) time.Duration {
		if ramp > 0 {
			if rampMsgs := rate * ramp / 2; k < rampMsgs {
				return time.Duration(math.Sqrt(2*k*ramp/rate) * float64(time.Second))
			} else {
				return time.Duration((ramp + (k-rampMsgs)/rate) * float64(time.Second))
			}
		}
		return time.Duration(k / rate * float64(time.Second))
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for k := 0.0; ; k++ {
		due := start.Add(dueAt(k))
		// Go's timers fire up to a millisecond late when the process is
		// idle (the poller waits in whole milliseconds), which would add
		// to every corrected latency: wait with a timer until shortly
		// before, then sleep precisely, unless it is due so soon that a
		// sleep would cost more than it is worth (then the message may
		// start a little early, and is measured from its start).
		if wait := time.Until(due) - timerSlack; wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			case <-r.stop:
				return
			}
		}
		if time.Until(due) > earlyTicket {
			sleepUntil(due)
		}
		select {
		case r.tickets <- due:
		case <-ctx.Done():
			return
		case <-r.stop:
			return
		}
	}
}

// watch feeds the per-second series, the progress display and the
// HdrHistogram interval log, until every session has ended: then it adds
// the last, partial second, so the series and the log hold every message.
func (r *run) watch(progress func(Progress), hdrLog func(*hdrhistogram.Histogram)) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last Second
	interval := func(t int, end time.Time) {
		if hdrLog == nil {
			return
		}
		h := r.m.takeInterval()
		if end.IsZero() {
			end = r.m.start.Add(time.Duration(t) * time.Second)
		} else if h.TotalCount() == 0 {
			return
		}
		h.SetStartTimeMs(r.m.start.Add(time.Duration(t-1) * time.Second).UnixMilli())
		h.SetEndTimeMs(end.UnixMilli())
		hdrLog(h)
	}
	for t := 1; ; t++ {
		select {
		case <-tick.C:
		case <-r.done:
			before := last
			r.m.tick(t, &last)
			if last.Started == before.Started && last.Accepted == before.Accepted && last.Failed == before.Failed && last.Bytes == before.Bytes {
				r.m.seriesMu.Lock()
				r.m.series = r.m.series[:len(r.m.series)-1] // nothing happened
				r.m.seriesMu.Unlock()
			}
			interval(t, time.Now())
			return
		}
		before := last.Accepted
		r.m.tick(t, &last)
		interval(t, time.Time{})
		if progress != nil {
			p := Progress{Elapsed: time.Since(r.m.start), Started: last.Started, Accepted: last.Accepted, Failed: last.Failed,
				Rate: float64(last.Accepted - before), Total: r.opts.Messages}
			if r.opts.Duration > 0 {
				p.Remaining = max(r.opts.Duration-p.Elapsed, 0)
			}
			progress(p)
		}
	}
}
