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
	stop     chan struct{} // closed to end the run
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

// next claims the next message: its sequence number, and when it was due.
// It reports false when the run is over.
func (r *run) next(ctx context.Context) (int64, time.Time, bool) {
	if r.opts.nothing {
		return 0, time.Time{}, false
	}
	var due time.Time
	if r.tickets != nil {
		select {
		case due = <-r.tickets:
		case <-r.stop:
			return 0, time.Time{}, false
		case <-ctx.Done():
			return 0, time.Time{}, false
		}
	}
	if r.stopped() || ctx.Err() != nil {
		return 0, time.Time{}, false
	}
	seq := r.m.started.Add(1)
	if r.opts.Messages > 0 && seq > r.opts.Messages {
		r.m.started.Add(-1)
		r.end()
		return 0, time.Time{}, false
	}
	if r.tickets == nil {
		due = time.Now()
	} else if time.Since(due) > time.Millisecond {
		// Open loop: no session was free when it was due.
		r.m.late.Add(1)
	}
	return seq, due, true
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
	r := &run{opts: opts, m: newMetrics(4 * runtime.GOMAXPROCS(0)), rcpts: rcpts, runID: hex.EncodeToString(id), stop: make(chan struct{})}
	if opts.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Duration)
		defer cancel()
	}
	if opts.Rate > 0 {
		r.tickets = make(chan time.Time, opts.Sessions)
		go r.schedule(ctx)
	}
	go r.watch(ctx, progress, hdrLog)

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
		c.write([]byte("QUIT\r\n"))
		c.expect(221)
		c.nc.Close()
		c = nil
	}
	for {
		seq, due, ok := s.run.next(ctx)
		if !ok {
			if c != nil {
				quit()
			}
			return
		}
		if c == nil {
			var err error
			if c, err = s.dial(ctx); err != nil {
				s.run.m.failed.Add(1)
				s.run.countError()
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
		err := s.send(c, seq, due)
		onConn++
		switch {
		case err == nil:
		case errors.Is(err, errTransaction):
			s.run.countError()
		default:
			// The connection is gone.
			s.run.m.failed.Add(1)
			s.run.countError()
			c.nc.Close()
			c = nil
			continue
		}
		if o.MessagesPerSession > 0 && onConn >= o.MessagesPerSession {
			quit()
		}
	}
}

// countError ends the run once MaxErrors failures are counted.
func (r *run) countError() {
	if r.opts.MaxErrors > 0 && r.m.failed.Load() >= r.opts.MaxErrors {
		r.end()
	}
}

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
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			case <-r.stop:
				return
			}
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
// HdrHistogram interval log.
func (r *run) watch(ctx context.Context, progress func(Progress), hdrLog func(*hdrhistogram.Histogram)) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last Second
	for t := 1; ; t++ {
		select {
		case <-tick.C:
		case <-r.stop:
			return
		case <-ctx.Done():
			return
		}
		before := last.Accepted
		r.m.tick(t, &last)
		if hdrLog != nil {
			h := r.m.takeInterval()
			h.SetStartTimeMs(r.m.start.Add(time.Duration(t-1) * time.Second).UnixMilli())
			h.SetEndTimeMs(r.m.start.Add(time.Duration(t) * time.Second).UnixMilli())
			hdrLog(h)
		}
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
