package load

import "testing"

// TestSegmentShare: the messages split among segments add up to the run's,
// the first segments taking the remainder; unbounded stays unbounded.
func TestSegmentShare(t *testing.T) {
	for _, tc := range []struct {
		messages          int64
		segment, segments int
		want              int64
	}{
		{10, 1, 3, 4}, {10, 2, 3, 3}, {10, 3, 3, 3}, {2, 3, 3, 0}, {7, 1, 1, 7}, {0, 1, 2, 0}, {-1, 1, 1, 0},
	} {
		o := Options{Messages: tc.messages, Segment: tc.segment, Segments: tc.segments}
		if got := o.SegmentShare(); got != tc.want {
			t.Errorf("%d messages, segment %d/%d: %d, want %d", tc.messages, tc.segment, tc.segments, got, tc.want)
		}
	}
}
