package load

import (
	"syscall"
	"time"
)

// timerSlack is how late a Go timer may fire: sleepUntil covers it.
const timerSlack = 1500 * time.Microsecond

// sleepUntil sleeps until t with the precision of the kernel's timers
// (nanosleep(2)), not the millisecond of the Go poller.
func sleepUntil(t time.Time) {
	for d := time.Until(t); d > 0; d = time.Until(t) {
		ts := syscall.NsecToTimespec(int64(d))
		if syscall.Nanosleep(&ts, nil) == nil {
			return
		}
	}
}
