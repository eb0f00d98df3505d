package progress

import (
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/load"
)

// TestPlainProgress: off a terminal (a CI log) the display prints one line
// about every plainEvery, with the rate since the last line, and nothing
// once stopped.
func TestPlainProgress(t *testing.T) {
	var b strings.Builder
	d := New(&b, load.Options{Messages: 100})
	d.Update(load.Progress{Elapsed: time.Second, Started: 10, Accepted: 10})
	if b.Len() != 0 {
		t.Errorf("a line after 1s: %q", b.String())
	}
	d.Update(load.Progress{Elapsed: 5 * time.Second, Started: 60, Accepted: 50, Failed: 2})
	if want := "load: 5s  sent 60  accepted 50  failed 2  10 msgs/s\n"; b.String() != want {
		t.Errorf("after 5s: %q, want %q", b.String(), want)
	}
	d.Update(load.Progress{Elapsed: 10 * time.Second, Started: 90, Accepted: 70})
	if !strings.HasSuffix(b.String(), "accepted 70  failed 0  4 msgs/s\n") {
		t.Errorf("after 10s, the rate since the last line: %q", b.String())
	}
	d.Stop(&load.Result{Sent: 100, Accepted: 100})
	before := b.Len()
	d.Update(load.Progress{Elapsed: 20 * time.Second, Started: 100, Accepted: 100})
	if b.Len() != before {
		t.Errorf("an update after Stop printed %q", b.String()[before:])
	}
	var none *Display
	none.Stop(nil) // no display: nothing to stop, no panic
}

// TestPlainProgressShare: a segment's display counts the messages this
// generator sends, not the whole run's.
func TestPlainProgressShare(t *testing.T) {
	d := New(&strings.Builder{}, load.Options{Messages: 10, Segment: 1, Segments: 3})
	if d.total != 4 {
		t.Errorf("segment 1 of 3 of 10 messages: total %d, want 4", d.total)
	}
}
