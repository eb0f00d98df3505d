package leakcheck

import "testing"

// sink keeps the test's allocation reachable while HeapGrowth samples.
var sink []byte

// TestHeapGrowthSeesABuffer: a 64 MiB buffer held while f runs is seen; a
// function that allocates nothing shows (almost) no growth.
func TestHeapGrowthSeesABuffer(t *testing.T) {
	grown := HeapGrowth(func() {
		sink = make([]byte, 64<<20)
		for i := range sink {
			sink[i] = 1 // touched, so it is in use, not just reserved
		}
	})
	sink = nil
	if grown < 60<<20 {
		t.Errorf("a 64 MiB buffer showed as %d octets of growth", grown)
	}
	if idle := HeapGrowth(func() {}); idle > 8<<20 {
		t.Errorf("an empty function showed %d octets of growth", idle)
	}
}
