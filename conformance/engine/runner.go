package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// RunChecks runs checks against target: each under its own timeout, at most
// opts.Parallel at once, each on its own connections. Results come back in
// the order of checks.
func RunChecks(ctx context.Context, target Target, checks []*Check, opts *Options) []Result {
	results := make([]Result, len(checks))
	sem := make(chan struct{}, max(opts.Parallel, 1))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				results[i] = runOne(ctx, target, c, opts)
			case <-ctx.Done():
				results[i] = result(target, c, Error, "not run: "+ctx.Err().Error(), 0, nil)
			}
		}()
	}
	wg.Wait()
	return results
}

func runOne(ctx context.Context, target Target, c *Check, opts *Options) (res Result) {
	timeout := opts.Timeout
	if c.ReadsBack {
		timeout += 2 * opts.ReadbackTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := &T{Target: target, Options: opts, check: c, record: newTranscript()}
	start := time.Now()
	// Reads wait until the check's deadline at most, but a cancelled run
	// (Ctrl-C, a caller's context) must not wait for them: closing the
	// connections ends every read and write at once.
	stopClosing := context.AfterFunc(ctx, t.CloseConns)
	defer func() {
		stopClosing()
		t.CloseConns()
		if p := recover(); p != nil {
			t.Note("panic: %v\n%s", p, debug.Stack())
			t.status, t.message = Error, fmt.Sprintf("check panicked: %v", p)
		}
		status, msg := t.status, t.message
		if status == "" {
			status = Pass
		}
		res = result(target, c, status, msg, time.Since(start), t.record.Lines())
	}()
	err := callCheck(ctx, c, t)
	var unmet *PreconditionError
	if errors.As(err, &unmet) && (t.status == "" || t.status == Pass) {
		t.status, t.message = Skip, unmet.Error()
		return res
	}
	if err != nil && (t.status == "" || t.status == Pass) {
		t.status, t.message = Error, "could not decide: "+err.Error()
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			t.message += fmt.Sprintf(" (check timeout %v)", timeout)
		case ctx.Err() != nil:
			t.message = "not decided: the run was cancelled (" + err.Error() + ")"
		}
	}
	return res
}

// callCheck runs the check, turning the unwinding of the Now methods back
// into a return (other panics go on to runOne).
func callCheck(ctx context.Context, c *Check, t *T) (err error) {
	defer func() {
		if p := recover(); p != nil {
			stop, ok := p.(stopCheck)
			if !ok {
				panic(p)
			}
			err = stop.err
		}
	}()
	return c.Run(ctx, t)
}

func result(target Target, c *Check, status Status, msg string, d time.Duration, lines []Line) Result {
	if lines == nil {
		lines = []Line{}
	}
	return Result{
		ID: c.ID, Title: c.Title, Protocol: c.Protocol, Level: c.Level, Spec: c.Spec,
		Target: target.String(), Status: status, Message: msg,
		Duration: d, DurationMS: float64(d.Microseconds()) / 1000, Transcript: lines,
	}
}
