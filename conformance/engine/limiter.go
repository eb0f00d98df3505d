package engine

import (
	"context"
	"sync"
)

// Limiter is the adaptive bound on how many checks of a run talk to a
// server at once. A server that slows down or says it is busy is served
// fewer checks at a time: the limit halves (never below 1) on a slow
// phase or a busy answer, and grows back by one after a limit's worth of
// checks end without either (additive increase, multiplicative decrease,
// as TCP does with its window). A signal from a check that started under
// an older limit does not lower it again: that check already ran with
// the load that caused the first signal.
type Limiter struct {
	mu     sync.Mutex
	max    int
	limit  int
	active int
	// epoch counts the decreases; a Ticket carries the epoch it was
	// issued in.
	epoch int
	// calm counts the checks ended without a slow or busy signal since
	// the limit last changed.
	calm int
	// changed is closed (and replaced) whenever a slot may have freed.
	changed chan struct{}
}

// Ticket is one check's slot.
type Ticket struct{ epoch int }

// NewLimiter returns a limiter starting at, and never above, most (at
// least 1).
func NewLimiter(most int) *Limiter {
	most = max(most, 1)
	return &Limiter{max: most, limit: most, changed: make(chan struct{})}
}

// Acquire waits for a slot (or for ctx to end).
func (l *Limiter) Acquire(ctx context.Context) (Ticket, error) {
	for {
		l.mu.Lock()
		if l.active < l.limit {
			l.active++
			tk := Ticket{epoch: l.epoch}
			l.mu.Unlock()
			return tk, nil
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return Ticket{}, ctx.Err()
		}
	}
}

// Release frees a slot; calm says the check saw no slow phase and no busy
// answer, which lets the limit grow back.
func (l *Limiter) Release(tk Ticket, calm bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.active--
	if calm && tk.epoch == l.epoch && l.limit < l.max {
		l.calm++
		if l.calm >= l.limit {
			l.limit++
			l.calm = 0
		}
	}
	l.broadcast()
}

// Slow and Busy tell the limiter a check saw the server slow down or say
// it is busy: the limit halves, once per epoch. They return the limit, and
// whether this signal lowered it.
func (l *Limiter) Slow(tk Ticket) (int, bool) { return l.decrease(tk) }

// Busy: see Slow.
func (l *Limiter) Busy(tk Ticket) (int, bool) { return l.decrease(tk) }

func (l *Limiter) decrease(tk Ticket) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if tk.epoch != l.epoch || l.limit == 1 {
		return l.limit, false
	}
	l.limit = max(l.limit/2, 1)
	l.epoch++
	l.calm = 0
	return l.limit, true
}

// Limit is the current bound.
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

func (l *Limiter) broadcast() {
	close(l.changed)
	l.changed = make(chan struct{})
}
