package leakcheck

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// leakyWorker blocks until release is closed: started and not released, it
// is a leaked goroutine, and its name is in its stack.
func leakyWorker(release chan struct{}) { <-release }

// TestLeakedGoroutineIsReported shows the detector fails when it should:
// a goroutine started after the snapshot and still blocked is reported
// with its stack, and once it ends nothing is.
func TestLeakedGoroutineIsReported(t *testing.T) {
	snap := Take()
	release := make(chan struct{})
	go leakyWorker(release)
	leaked := snap.Leaked(200 * time.Millisecond)
	if len(leaked) != 1 || !strings.Contains(leaked[0].Stack, "leakcheck.leakyWorker") {
		close(release)
		t.Fatalf("want the one leaked worker reported, got:\n%s", Report(leaked))
	}
	if r := Report(leaked); !strings.Contains(r, "1 goroutine(s) leaked") || !strings.Contains(r, "leakyWorker") {
		t.Errorf("report does not show the stack:\n%s", r)
	}
	close(release)
	if leaked := snap.Leaked(DefaultWait); leaked != nil {
		t.Errorf("the worker ended, yet:\n%s", Report(leaked))
	}
}

// TestGoroutineEndingLateIsNotALeak: a goroutine still winding down when
// the check starts (a reader noticing its closed connection) is waited for.
func TestGoroutineEndingLateIsNotALeak(t *testing.T) {
	snap := Take()
	done := make(chan struct{})
	go func() {
		time.Sleep(100 * time.Millisecond)
		close(done)
	}()
	if leaked := snap.Leaked(DefaultWait); leaked != nil {
		t.Errorf("a goroutine that ends within the wait was reported:\n%s", Report(leaked))
	}
	<-done
}

// recorder is a TB that keeps what Check reports.
type recorder struct {
	cleanups []func()
	errors   []string
}

func (r *recorder) Helper()           {}
func (r *recorder) Cleanup(f func())  { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Error(args ...any) { r.errors = append(r.errors, fmt.Sprint(args...)) }

// TestCheckFailsTheTest: Check, as a test uses it, errors with the leaked
// stack when a goroutine outlives the test, and stays quiet otherwise.
func TestCheckFailsTheTest(t *testing.T) {
	if testing.Short() {
		t.Skip("waits DefaultWait for the leak")
	}
	release := make(chan struct{})
	defer close(release)
	leaky := &recorder{}
	Check(leaky)
	go leakyWorker(release)
	for _, f := range leaky.cleanups {
		f()
	}
	if len(leaky.errors) != 1 || !strings.Contains(leaky.errors[0], "leakyWorker") {
		t.Errorf("Check did not report the leaked worker: %q", leaky.errors)
	}

	clean := &recorder{}
	Check(clean)
	for _, f := range clean.cleanups {
		f()
	}
	if len(clean.errors) != 0 {
		t.Errorf("Check reported a leak where there is none: %q", clean.errors)
	}
}
