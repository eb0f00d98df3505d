package engine

import (
	"context"
	"testing"
	"time"
)

// TestLimiterHalvesOncePerEpoch: a slow or busy signal halves the limit;
// further signals from checks that started under the old limit do not
// lower it again; a signal from a check started under the new one does.
func TestLimiterHalvesOncePerEpoch(t *testing.T) {
	l := NewLimiter(8)
	var old []Ticket
	for range 8 {
		tk, err := l.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, tk)
	}
	l.Slow(old[0])
	l.Busy(old[1])
	l.Slow(old[2])
	if got := l.Limit(); got != 4 {
		t.Fatalf("after three signals from one epoch: limit %d, want 4", got)
	}
	for _, tk := range old {
		l.Release(tk, false)
	}
	fresh, _ := l.Acquire(context.Background())
	l.Busy(fresh)
	if got := l.Limit(); got != 2 {
		t.Errorf("after a signal from the new epoch: limit %d, want 2", got)
	}
	l.Release(fresh, false)
	for range 5 {
		tk, _ := l.Acquire(context.Background())
		l.Slow(tk)
		l.Release(tk, false)
	}
	if got := l.Limit(); got != 1 {
		t.Errorf("limit %d after many signals, want the floor 1", got)
	}
}

// TestLimiterGrowsBackSlowly: calm checks grow the limit by one per
// limit's worth of them, up to the maximum and never past it.
func TestLimiterGrowsBackSlowly(t *testing.T) {
	l := NewLimiter(4)
	tk, _ := l.Acquire(context.Background())
	l.Busy(tk)
	l.Release(tk, false)
	tk, _ = l.Acquire(context.Background())
	l.Busy(tk)
	l.Release(tk, false)
	if got := l.Limit(); got != 1 {
		t.Fatalf("limit %d, want 1", got)
	}
	calm := func(n int) {
		for range n {
			tk, _ := l.Acquire(context.Background())
			l.Release(tk, true)
		}
	}
	calm(1)
	if got := l.Limit(); got != 2 {
		t.Fatalf("after 1 calm check at limit 1: %d, want 2", got)
	}
	calm(1)
	if got := l.Limit(); got != 2 {
		t.Fatalf("after 1 calm check at limit 2: %d, want still 2", got)
	}
	calm(1)
	if got := l.Limit(); got != 3 {
		t.Fatalf("after 2 calm checks at limit 2: %d, want 3", got)
	}
	calm(100)
	if got := l.Limit(); got != 4 {
		t.Errorf("after many calm checks: %d, want the maximum 4", got)
	}
}

// TestLimiterBoundsActive: no more than the limit hold a slot; a released
// slot lets a waiter in, and a cancelled wait returns.
func TestLimiterBoundsActive(t *testing.T) {
	l := NewLimiter(2)
	a, _ := l.Acquire(context.Background())
	l.Acquire(context.Background())
	got := make(chan Ticket)
	go func() {
		tk, err := l.Acquire(context.Background())
		if err == nil {
			got <- tk
		}
	}()
	select {
	case <-got:
		t.Fatal("a third check got a slot under a limit of 2")
	case <-time.After(50 * time.Millisecond):
	}
	l.Release(a, true)
	<-got // a release lets the waiter in (the test hangs otherwise)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Acquire(ctx); err == nil {
		t.Error("Acquire on a full limiter with a cancelled context returned a slot")
	}
}
