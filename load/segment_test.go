package load

import "testing"

// TestParseSegment: i/n counts from 1; k8s/n takes a 0-based index from
// the Indexed Job's variable, which must be there and in range.
func TestParseSegment(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == SegmentIndexEnv {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		in, env string
		i, n    int
	}{{"1/1", "", 1, 1}, {"2/3", "", 2, 3}, {"3/3", "", 3, 3}, {"k8s/3", "0", 1, 3}, {"k8s/3", "2", 3, 3}} {
		if i, n, err := ParseSegment(tc.in, env(tc.env)); err != nil || i != tc.i || n != tc.n {
			t.Errorf("segment %q (index %q): %d/%d %v", tc.in, tc.env, i, n, err)
		}
	}
	for _, tc := range []struct{ in, env string }{
		{"0/3", ""}, {"4/3", ""}, {"1/0", ""}, {"1", ""}, {"a/b", ""}, {"k8s/3", ""}, {"k8s/3", "3"}, {"k8s/3", "-1"}, {"k8s/3", "x"},
	} {
		if i, n, err := ParseSegment(tc.in, env(tc.env)); err == nil {
			t.Errorf("segment %q (index %q) accepted: %d/%d", tc.in, tc.env, i, n)
		}
	}
}
