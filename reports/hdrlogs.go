package reports

import (
	"fmt"
	"io"
	"slices"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mailcheck/mailcheck/load/summary"
)

// Intervals returns the intervals of every log, in order.
func Intervals(logs []File) []*hdrhistogram.Histogram {
	var all []*hdrhistogram.Histogram
	for _, l := range logs {
		all = append(all, l.Intervals...)
	}
	return all
}

// WriteHdrLogText merges HdrHistogram interval logs into one histogram
// and writes the percentile table of its transaction latency; given the
// merged JSON result of the same run (res, nil for none), it writes that
// result's row too and says whether the two agree exactly, which tells a
// log or result missing or of another run.
func WriteHdrLogText(w io.Writer, logs []File, res *summary.Result) {
	all := Intervals(logs)
	h := summary.MergeHdrIntervals(all)
	fmt.Fprintf(w, "\nHdrHistogram logs: %d files, %d intervals, %d transactions\n", len(logs), len(all), h.TotalCount())
	fmt.Fprintf(w, "  %-26s %9s", "transaction (ms)", "count")
	for _, p := range summary.Percentiles {
		fmt.Fprintf(w, " %9s", fmt.Sprintf("p%g", p))
	}
	fmt.Fprintf(w, " %9s\n", "max")
	percentileRow(w, "merged logs", h)
	if res == nil || res.Phases[summary.PhaseTransaction] == nil {
		return
	}
	jh, err := hdrhistogram.Decode([]byte(res.Phases[summary.PhaseTransaction].Histogram))
	if err != nil {
		return
	}
	percentileRow(w, "merged JSON results", jh)
	if SameHistogram(h, jh) {
		fmt.Fprintln(w, "  the logs and the JSON results agree exactly")
	} else {
		fmt.Fprintln(w, "  the logs and the JSON results differ (logs of other runs, or a log or result missing?)")
	}
}

// percentileRow writes one row of the table: count, percentiles and max
// of h (µs) in ms.
func percentileRow(w io.Writer, name string, h *hdrhistogram.Histogram) {
	fmt.Fprintf(w, "  %-26s %9d", name, h.TotalCount())
	for _, p := range summary.Percentiles {
		fmt.Fprintf(w, " %9.3f", float64(h.ValueAtPercentile(p))/1000)
	}
	fmt.Fprintf(w, " %9.3f\n", float64(h.Max())/1000)
}

// SameHistogram compares two latency histograms value by value (their
// geometries may differ in storage but not in meaning).
func SameHistogram(a, b *hdrhistogram.Histogram) bool {
	if a.TotalCount() != b.TotalCount() {
		return false
	}
	nonzero := func(bars []hdrhistogram.Bar) []hdrhistogram.Bar {
		return slices.DeleteFunc(bars, func(b hdrhistogram.Bar) bool { return b.Count == 0 })
	}
	return slices.Equal(nonzero(a.Distribution()), nonzero(b.Distribution()))
}
