package engine

import "fmt"

// A check reads as steps: each step either holds or ends the check with a
// verdict, the way testing.T's FailNow and SkipNow do. The Now methods
// record the verdict and unwind the check's goroutine to the runner, which
// recovers the unwinding (and only it) and reports the verdict. They must
// be called from the goroutine running the check, never from one it
// started.

// stopCheck is what the Now methods panic with; callCheck recovers it.
// err, when set, is the error that ends the check (ErrorNow, Require).
type stopCheck struct{ err error }

// FailNow records that the requirement is not met (Fail for a MUST, Warn
// for a SHOULD or MAY) and ends the check.
func (t *T) FailNow(format string, args ...any) {
	t.Fail(format, args...)
	t.stop()
}

// SkipNow records that the check does not apply, and why, and ends it.
func (t *T) SkipNow(format string, args ...any) {
	t.Skip(format, args...)
	t.stop()
}

// Precondition ends the check with Skip: something the check needs before
// it can observe its subject did not work ("RCPT TO:<bob@…> refused:
// 550 …"). That is never the check's verdict on the server: another check
// owns that behaviour, and a check fails only for its own subject.
func (t *T) Precondition(format string, args ...any) {
	t.SkipNow("precondition: "+format, args...)
}

// ErrorNow ends the check with Error: the tool could not decide (the
// connection broke, a wait ran past every timeout the RFCs allow).
func (t *T) ErrorNow(err error) {
	panic(stopCheck{err: err})
}

// Require ends the check when err is not nil, as if Run had returned err:
// with Error (could not decide), with Skip when err is a
// *PreconditionError (see Unmet), or, when err is a *BusyError (see
// Busy), by running the check again afresh after a backoff. A step that must work for the check to
// reach any verdict passes its error to it.
func (t *T) Require(err error) {
	if err == nil {
		return
	}
	t.ErrorNow(err)
}

// Stop ends the check with the verdict recorded so far (a pass if none).
func (t *T) Stop() { t.stop() }

func (t *T) stop() { panic(stopCheck{}) }

// PreconditionError says a check's precondition was not met: returned from
// a check's Run (or passed to Require) it ends the check with Skip, not
// Error. Setup helpers shared by many checks return it when the server
// refuses a step that is not the checks' subject, so each check need not
// tell a refusal from a broken connection itself.
type PreconditionError struct {
	Reason string
	// Err, when set, is the kind of refusal (errors.Is sees through to it).
	Err error
}

func (e *PreconditionError) Error() string { return "precondition: " + e.Reason }

func (e *PreconditionError) Unwrap() error { return e.Err }

// Unmet returns a *PreconditionError with a formatted reason.
func Unmet(format string, args ...any) error {
	return &PreconditionError{Reason: fmt.Sprintf(format, args...)}
}
