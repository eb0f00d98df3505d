package load

import "testing"

// TestParseSize: the --size grammar, sizes and ranges with k and m (1024
// and 1024²) in either case, and what it refuses: nothing, zero, negative,
// no number, an unknown unit, an empty range, beyond 64m, a half range.
func TestParseSize(t *testing.T) {
	for in, want := range map[string]SizeSpec{
		"1024": {Min: 1024, Max: 1024}, "1k": {Min: 1024, Max: 1024}, "10K": {Min: 10240, Max: 10240},
		"1m": {Min: 1 << 20, Max: 1 << 20}, "1k-10k": {Min: 1024, Max: 10240}, "500-3000": {Min: 500, Max: 3000},
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("size %q: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0", "-1", "k", "1x", "10k-1k", "65m", "1k-"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("size %q accepted: %v", in, got)
		}
	}
}
