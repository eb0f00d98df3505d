//go:build !linux

package load

import "time"

// timerSlack is how late a Go timer may fire; elsewhere than Linux the
// timers are all there is.
const timerSlack = 0

// sleepUntil sleeps until t.
func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }
