package engine

import (
	"fmt"
	"strings"
	"time"
)

// SlowPhase is how long the server may take to answer (from the connect
// to the greeting, from a command to its reply) before it counts as slow. Slowness is evidence, never a verdict: a slow phase is noted in
// the transcript and the check's message ("greeting took 3.2 s"), and the
// run serves the server fewer checks at once (see Limiter); the verdict
// is the check's as ever.
const SlowPhase = time.Second

// slowWait is one slow phase of a check.
type slowWait struct {
	what string
	took time.Duration
}

// noteSlow records that waiting for what took took, when that is slow.
func (t *T) noteSlow(what string, took time.Duration) {
	if took < SlowPhase {
		return
	}
	t.Note("slow: %s took %s", what, seconds(took))
	t.connMu.Lock()
	t.slow = append(t.slow, slowWait{what, took})
	t.connMu.Unlock()
	if t.pace == nil {
		return
	}
	if n, lowered := t.pace.Slow(t.ticket); lowered {
		t.Note("the run now serves the server at most %d checks at once", n)
	}
}

// slowEvidence sums up the slow phases for the check's message: the first
// few, and how many more.
func (t *T) slowEvidence() string {
	t.connMu.Lock()
	defer t.connMu.Unlock()
	const shown = 3
	var parts []string
	for i, s := range t.slow {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more slow waits", len(t.slow)-shown))
			break
		}
		parts = append(parts, s.what+" took "+seconds(s.took))
	}
	return strings.Join(parts, ", ")
}

// withEvidence appends evidence to a message, in parentheses after the
// message's own words.
func withEvidence(msg, evidence string) string {
	switch {
	case evidence == "":
		return msg
	case msg == "":
		return evidence
	}
	return msg + " (" + evidence + ")"
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
