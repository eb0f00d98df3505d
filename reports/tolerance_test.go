package reports

import "testing"

// TestParseTolerance: percentages and shares; 0 is the smallest positive
// share (any difference counts); negative, NaN, infinite and junk are
// refused.
func TestParseTolerance(t *testing.T) {
	for in, want := range map[string]float64{"10%": 0.1, "0.25": 0.25, "5%": 0.05} {
		if got, err := ParseTolerance(in); err != nil || got != want {
			t.Errorf("--tolerance %s: %v %v", in, got, err)
		}
	}
	if got, err := ParseTolerance("0"); err != nil || got <= 0 || got > 1e-300 {
		t.Errorf("--tolerance 0: %v %v, want the smallest positive share", got, err)
	}
	for _, in := range []string{"nan", "inf", "-1%", "x", ""} {
		if _, err := ParseTolerance(in); err == nil {
			t.Errorf("--tolerance %q accepted", in)
		}
	}
}
