package engine

import (
	"math/rand/v2"
	"time"
)

// DefaultStressDuration bounds a concurrency check inside a whole run:
// a few seconds of several sessions at once reproduce what imaptest's
// stress finds within its first second on a server with a sequence or
// flag-order bug, and keep `conform` quick. A longer run
// (Options.StressDuration) searches harder.
const DefaultStressDuration = 3 * time.Second

// StressSeedOrRandom is Options.StressSeed, or a random non-zero seed
// when it is 0: the check prints what it used so that it can be replayed.
func (o *Options) StressSeedOrRandom() uint64 {
	if o.StressSeed != 0 {
		return o.StressSeed
	}
	return rand.Uint64N(1<<53-1) + 1
}

// Received is how many octets the check has read from servers so far,
// against Options.MaxReceive (Bounds().Total): a check that reads for a
// set time, as a stress run does, ends before it runs out.
func (t *T) Received() int64 { return t.received.Load() }
