package engine

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMemoComputesOncePerRun: parallel callers get one computation; an
// error is not kept, so the next caller computes again.
func TestMemoComputesOncePerRun(t *testing.T) {
	r := NewRunState()
	var calls atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := r.Memo("k", func() (any, error) { calls.Add(1); return "fact", nil })
			if v != "fact" || err != nil {
				t.Errorf("Memo = %v, %v", v, err)
			}
		}()
	}
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("computed %d times, want 1", calls.Load())
	}
	if _, err := r.Memo("e", func() (any, error) { return nil, errors.New("cut short") }); err == nil {
		t.Error("the error was not returned")
	}
	if v, err := r.Memo("e", func() (any, error) { return "second", nil }); v != "second" || err != nil {
		t.Errorf("after an error, Memo = %v, %v; want a new computation", v, err)
	}
}

// TestLedger: messages sent and not deleted are what the run has left.
func TestLedger(t *testing.T) {
	r := NewRunState()
	opts := &Options{State: r}
	tt := Detached("check.a", Target{Protocol: "smtp", Addr: "127.0.0.1:25"}, opts)
	tt.Sent("n1", tt.Target, "bob@x")
	tt.Sent("n2", tt.Target, "bob@x")
	tt.Sent("n2", tt.Target, "postmaster")
	r.Deleted("n1")
	left := r.Undeleted()
	if len(left) != 1 || left[0].Nonce != "n2" || left[0].Check != "check.a" || len(left[0].To) != 2 {
		t.Errorf("Undeleted = %+v", left)
	}
	var none *RunState
	none.Deleted("n1") // a nil RunState records nothing and does not panic
	if none.Undeleted() != nil {
		t.Error("a nil RunState has leftovers")
	}
}

// TestReadsBackExtendsTheTimeout: a check that waits for delivery gets
// twice ReadbackTimeout beyond Options.Timeout.
func TestReadsBackExtendsTheTimeout(t *testing.T) {
	opts := Options{Timeout: 50 * time.Millisecond, ReadbackTimeout: time.Second}.WithDefaults()
	wait := func(ctx context.Context, _ *T) error {
		select {
		case <-time.After(300 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	checks := []*Check{
		{ID: "x.reads-back", Level: Must, ReadsBack: true, Run: wait},
		{ID: "x.plain", Level: Must, Run: wait},
	}
	res := RunChecks(context.Background(), Target{Protocol: "smtp"}, checks, &opts)
	if res[0].Status != Pass {
		t.Errorf("ReadsBack: %s (%s), want pass", res[0].Status, res[0].Message)
	}
	if res[1].Status != Error {
		t.Errorf("without ReadsBack: %s (%s), want error", res[1].Status, res[1].Message)
	}
}
