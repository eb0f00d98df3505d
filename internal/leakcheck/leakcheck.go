// Package leakcheck finds what code under test holds on to: goroutines it
// left behind (Check, Snapshot: it snapshots the goroutines before the code
// runs and, afterwards, waits a bounded time for every goroutine started
// since to end, reporting the stacks of those that do not) and how far the
// heap grew while it ran (HeapGrowth). It reads runtime.Stack and
// runtime.MemStats, so it needs nothing beyond the standard library.
package leakcheck

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// DefaultWait is how long Check waits for goroutines to end: long enough
// for connections closed at cleanup to be noticed by their readers, short
// enough that a leak fails the test promptly.
const DefaultWait = 5 * time.Second

// ignored are functions whose goroutines the runtime or the testing package
// start on demand and keep for the life of the process; a test that
// happens to be the first to need them did not leak them.
var ignored = []string{
	"os/signal.signal_recv",
	"os/signal.loop",
	"runtime.ensureSigM",
	"testing.(*M).startAlarm",
}

// Snapshot is the set of goroutines alive at one moment.
type Snapshot struct {
	ids map[uint64]bool
}

// Take records the goroutines alive now.
func Take() Snapshot {
	s := Snapshot{ids: map[uint64]bool{}}
	for _, g := range goroutines() {
		s.ids[g.id] = true
	}
	return s
}

// Goroutine is one goroutine's stack, as runtime.Stack prints it.
type Goroutine struct {
	id    uint64
	Stack string
}

// New returns the goroutines alive now that were not in the snapshot, apart
// from the runtime's and the testing package's own.
func (s Snapshot) New() []Goroutine {
	var out []Goroutine
	for _, g := range goroutines() {
		if !s.ids[g.id] && !isIgnored(g.Stack) {
			out = append(out, g)
		}
	}
	return out
}

// Leaked waits up to wait for the goroutines started since the snapshot to
// end, polling with a growing pause, and returns those still alive then
// (nil when none is). The loop is bounded by wait.
func (s Snapshot) Leaked(wait time.Duration) []Goroutine {
	deadline := time.Now().Add(wait)
	pause := time.Millisecond
	for {
		left := s.New()
		if len(left) == 0 {
			return nil
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return left
		}
		time.Sleep(min(pause, remaining))
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// Report formats leaked goroutines for a test failure.
func Report(leaked []Goroutine) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d goroutine(s) leaked:\n", len(leaked))
	for _, g := range leaked {
		b.WriteString(g.Stack)
		b.WriteString("\n\n")
	}
	return b.String()
}

// Check snapshots the goroutines now and registers a cleanup that fails t
// with the stacks of the goroutines started since that are still alive
// DefaultWait after the test and its later cleanups end. Call it first in
// a test, before starting servers whose Close is a cleanup too: cleanups
// run last-registered first, so the servers are closed by the time it
// looks. A test using it must not run in parallel with others (their
// goroutines would count as leaked).
func Check(t TB) {
	t.Helper()
	snap := Take()
	t.Cleanup(func() {
		if leaked := snap.Leaked(DefaultWait); leaked != nil {
			t.Error(Report(leaked))
		}
	})
}

// TB is the part of testing.TB that Check uses.
type TB interface {
	Helper()
	Cleanup(func())
	Error(args ...any)
}

// goroutines parses runtime.Stack of all goroutines. The calling goroutine
// is included (it is in any snapshot its test took).
func goroutines() []Goroutine {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		if len(buf) >= 64<<20 {
			break // a truncated dump still names most goroutines
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []Goroutine
	for _, block := range bytes.Split(buf, []byte("\n\n")) {
		block = bytes.TrimSpace(block)
		// "goroutine 42 [chan receive]:"
		rest, ok := bytes.CutPrefix(block, []byte("goroutine "))
		if !ok {
			continue
		}
		idText, _, ok := bytes.Cut(rest, []byte(" "))
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(string(idText), 10, 64)
		if err != nil {
			continue
		}
		out = append(out, Goroutine{id: id, Stack: string(block)})
	}
	return out
}

func isIgnored(stack string) bool {
	for _, fn := range ignored {
		if strings.Contains(stack, fn) {
			return true
		}
	}
	return false
}
