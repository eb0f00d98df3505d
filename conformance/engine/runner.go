package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// RunChecks runs checks against target: each under its own timeout, on its
// own connections, at most opts.Parallel at once, fewer while the server
// is slow or busy (see Limiter). A check that meets a busy server runs
// again afresh (see Retry). Results come back in the order of checks.
func RunChecks(ctx context.Context, target Target, checks []*Check, opts *Options) []Result {
	results := make([]Result, len(checks))
	pace := NewLimiter(opts.Parallel)
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runRetrying(ctx, target, c, opts, pace)
		}()
	}
	wg.Wait()
	return results
}

// runRetrying runs a check until it reaches a verdict, or the server stays
// busy through opts.Retry. A retry's transcript starts with notes of the
// runs before it.
func runRetrying(ctx context.Context, target Target, c *Check, opts *Options, pace *Limiter) Result {
	start := time.Now()
	policy := cmp.Or(opts.Retry, DefaultRetry)
	var history []string
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		tk, err := pace.Acquire(ctx)
		if err != nil {
			return result(target, c, Error, "not run: "+err.Error(), 0, notes(history))
		}
		res, busy, calm := runOne(ctx, target, c, opts, pace, tk, history)
		pace.Release(tk, calm)
		if busy == nil {
			if attempt > 1 {
				res.Message = withEvidence(res.Message, fmt.Sprintf("run %d times: the server was busy before", attempt))
			}
			res.Duration = time.Since(start)
			res.DurationMS = ms(res.Duration)
			return res
		}
		pace.Busy(tk)
		wait := policy.Wait(attempt)
		if !policy.Another(attempt, waited, wait) {
			res.Status = Error
			res.Message = fmt.Sprintf("could not decide: the server stayed busy through %d runs over %s: %v", attempt, seconds(time.Since(start)), busy)
			return res
		}
		history = append(transcriptNotes(res), fmt.Sprintf("%srun %d ended: %v; running the check again in %s, with at most %d checks at once", carriedMark, attempt, busy, seconds(wait), pace.Limit()))
		select {
		case <-time.After(wait):
			waited += wait
		case <-ctx.Done():
			res.Status, res.Message = Error, "not decided: the run was cancelled ("+busy.Error()+")"
			return res
		}
	}
}

// carriedLines bounds what a retry carries of each earlier run's
// transcript: a busy run is short (a refused connection, a 421
// greeting), and the retry's own exchange is the evidence that matters.
const carriedLines = 40

// transcriptNotes is the evidence a retry carries of the runs before it:
// their transcripts, as notes (the notes of earlier runs as they were).
func transcriptNotes(r Result) []string {
	var out []string
	fresh := 0
	for _, l := range r.Transcript {
		if l.Dir == DirNote && strings.HasPrefix(l.Text, carriedMark) {
			out = append(out, l.Text)
			continue
		}
		if fresh++; fresh <= carriedLines {
			out = append(out, carriedMark+string(l.Dir)+" "+l.Text)
		}
	}
	if fresh > carriedLines {
		out = append(out, fmt.Sprintf("%s… %d more lines", carriedMark, fresh-carriedLines))
	}
	return out
}

// carriedMark starts the lines of an earlier run in a retry's transcript.
const carriedMark = "earlier run: "

func notes(texts []string) []Line {
	var lines []Line
	for _, t := range texts {
		lines = append(lines, Line{Dir: DirNote, Text: t})
	}
	return lines
}

// runOne runs the check once. busy, when not nil, is why the server could
// not serve it this time: the check is to run again. calm says no wait
// was slow.
func runOne(ctx context.Context, target Target, c *Check, opts *Options, pace *Limiter, tk Ticket, history []string) (res Result, busy error, calm bool) {
	timeout := opts.Timeout
	if c.ReadsBack {
		timeout += 2 * opts.ReadbackTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := &T{Target: target, Options: opts, check: c, record: newTranscript(), pace: pace, ticket: tk}
	for _, h := range history {
		t.Note("%s", h)
	}
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
		evidence := t.slowEvidence()
		calm = evidence == ""
		res = result(target, c, status, withEvidence(msg, evidence), time.Since(start), t.record.Lines())
		newSecretScrubber(t).scrubResult(&res)
	}()
	err := callCheck(ctx, c, t)
	undecided := t.status == "" || t.status == Pass
	var unmet *PreconditionError
	if errors.As(err, &unmet) && undecided {
		t.status, t.message = Skip, unmet.Error()
		return res, nil, calm
	}
	if IsBusy(err) && undecided && ctx.Err() == nil {
		t.Note("the server is busy: %v", err)
		t.status, t.message = Error, "could not decide: "+err.Error()
		return res, err, calm
	}
	if err != nil && undecided {
		t.status, t.message = Error, "could not decide: "+err.Error()
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			t.message += fmt.Sprintf(" (check timeout %v)", timeout)
		case ctx.Err() != nil:
			t.message = "not decided: the run was cancelled (" + err.Error() + ")"
		}
	}
	return res, nil, calm
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
