package leakcheck

import (
	"runtime"
	"time"
)

// heapSampleInterval is how often HeapGrowth samples: often enough to see
// a buffer that lives for a few milliseconds, rarely enough that the
// stop-the-world of runtime.ReadMemStats costs little.
const heapSampleInterval = 5 * time.Millisecond

// HeapGrowth runs f and returns the most HeapInuse rose above its level
// before f (measured after a collection), sampled while f runs. It is how a
// test bounds what a hostile peer can make the code hold in memory; a
// buffer kept for less than the sampling interval can escape it, one that
// grows with what the peer sends cannot.
func HeapGrowth(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	stop := make(chan struct{})
	sampled := make(chan uint64)
	go func() {
		tick := time.NewTicker(heapSampleInterval)
		defer tick.Stop()
		high := base
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			high = max(high, ms.HeapInuse)
			select {
			case <-stop:
				// One more sample: what f still holds as it returns.
				runtime.ReadMemStats(&ms)
				sampled <- max(high, ms.HeapInuse)
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	return <-sampled - base
}
