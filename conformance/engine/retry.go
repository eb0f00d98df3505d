package engine

import (
	"math/rand/v2"
	"time"
)

// Retry bounds how often, and for how long, the runner runs again a check
// that met a busy server (see BusyError): each retry starts the check
// afresh, after a wait that doubles from First up to Most, with a little
// jitter so that checks retried together do not all return at once.
// Past Attempts runs, or when the next wait would take the waits past
// Budget, the check ends as Error: the server stayed busy.
type Retry struct {
	Attempts int
	First    time.Duration
	Most     time.Duration
	Budget   time.Duration
}

// DefaultRetry is the runner's retry policy: 6 runs, waits of 0.5 s,
// 1 s, 2 s, 4 s, 8 s (15.5 s in all), within 2 minutes.
var DefaultRetry = Retry{Attempts: 6, First: 500 * time.Millisecond, Most: 10 * time.Second, Budget: 2 * time.Minute}

// Wait is the pause before run attempt+1, after attempt runs (1-based).
func (r Retry) Wait(attempt int) time.Duration {
	d := r.First
	for i := 1; i < attempt && d < r.Most; i++ {
		d *= 2
	}
	d = min(d, r.Most)
	// ±20% jitter.
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}

// Another reports whether a run may follow attempt runs that have waited
// waited in all, if the next wait is next.
func (r Retry) Another(attempt int, waited, next time.Duration) bool {
	return attempt < r.Attempts && waited+next <= r.Budget
}
