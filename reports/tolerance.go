package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseTolerance reads HTMLOptions.Tolerance as a person writes it: a
// percentage ("10%") or a share ("0.1"). Zero, which HTMLOptions takes for
// its default, becomes the smallest positive share: any difference at
// all counts.
func ParseTolerance(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q: want a share such as 10%% or 0.1", s)
	}
	if pct {
		v /= 100
	}
	if v == 0 {
		v = math.SmallestNonzeroFloat64
	}
	return v, nil
}
