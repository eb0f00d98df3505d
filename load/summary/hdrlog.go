package summary

import (
	"io"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// ReadHdrLog reads the intervals of an HdrHistogram interval log (what
// `mailcheck load --hdr-log` writes), each with its absolute start and end
// times (ms since the epoch). It lives beside the result model so that
// what reads results (package reports) reads the logs too without the
// generator; package load writes them.
func ReadHdrLog(r io.Reader) ([]*hdrhistogram.Histogram, error) {
	lr := hdrhistogram.NewHistogramLogReader(r)
	var out []*hdrhistogram.Histogram
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			return out, err
		}
		if h == nil {
			return out, nil
		}
		out = append(out, h)
	}
}

// MergeHdrIntervals merges intervals into one histogram of the same
// geometry as a run's (NewHistogram).
func MergeHdrIntervals(intervals []*hdrhistogram.Histogram) *hdrhistogram.Histogram {
	h := NewHistogram()
	for _, i := range intervals {
		h.Merge(i)
	}
	return h
}
