package load

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mailcheck/mailcheck/load/summary"
)

// HdrLog writes the HdrHistogram interval log of a run's transaction
// latency (corrected for coordinated omission in open loop), in the format
// of HdrHistogram's HistogramLogWriter: one interval per second, values in
// microseconds, absolute times (a StartTime and a whole-second BaseTime), so
// the logs of several generators merge exactly (ReadHdrLog,
// WriteMergedHdrLog, or HdrHistogram's own HistogramLogProcessor).
//
// Pass Interval as Run's hdrLog callback and call Close with the result: it
// adds the last, partial second, so the log holds exactly the transactions
// of the result.
type HdrLog struct {
	mu      sync.Mutex
	w       *hdrhistogram.HistogramLogWriter
	comment string
	header  bool
	closed  bool
	logged  *hdrhistogram.Histogram // the sum of the intervals written
	lastEnd int64                   // end of the last interval, ms since the epoch
	err     error
}

// NewHdrLog returns a log writing to w; comment (one line) heads it.
func NewHdrLog(w io.Writer, comment string) *HdrLog {
	return &HdrLog{w: hdrhistogram.NewHistogramLogWriter(w), comment: comment, logged: newHistogram()}
}

// writeHeader writes the comments, the start and base times and the
// legend. The base time is a whole second: the log holds seconds only, and
// the reader adds it back to each interval's relative time stamp.
func (l *HdrLog) writeHeader(startMs int64) {
	if l.header {
		return
	}
	l.header = true
	base := startMs / 1000 * 1000
	l.w.SetBaseTime(base)
	for _, f := range []func() error{
		func() error { return l.w.OutputComment(l.comment) },
		func() error {
			return l.w.OutputComment("transaction latency in microseconds (MAIL to the final 250; in open loop from when each message was due); Interval_Max in seconds")
		},
		l.w.OutputLogFormatVersion,
		func() error { return l.w.OutputStartTime(startMs) },
		func() error { return l.w.OutputBaseTime(base) },
		l.w.OutputLegend,
	} {
		if err := f(); err != nil && l.err == nil {
			l.err = err
		}
	}
}

// Interval logs one interval histogram (with its start and end times set,
// as Run passes them). Intervals arriving after Close are dropped (Close
// accounts for them).
func (l *HdrLog) Interval(h *hdrhistogram.Histogram) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.err != nil {
		return
	}
	l.writeHeader(h.StartTimeMs())
	if err := l.w.OutputIntervalHistogram(h); err != nil {
		l.err = err
		return
	}
	l.logged.Merge(h)
	l.lastEnd = max(l.lastEnd, h.EndTimeMs())
}

// Close logs what res's transaction histogram holds beyond the intervals
// logged so far (the last, partial second, and any interval still in
// flight when the run ended) and returns the first write error.
func (l *HdrLog) Close(res *Result) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return l.err
	}
	l.closed = true
	if res == nil {
		return l.err
	}
	start := res.Started.UnixMilli()
	l.writeHeader(start)
	if l.err != nil {
		return l.err
	}
	tx := res.Phases[PhaseTransaction]
	if tx == nil || tx.Count == l.logged.TotalCount() {
		return nil
	}
	decoded, err := hdrhistogram.Decode([]byte(tx.Histogram))
	if err != nil {
		return fmt.Errorf("load: transaction histogram: %w", err)
	}
	final := newHistogram()
	final.Merge(decoded)
	fs, ls := final.Export(), l.logged.Export()
	for i := range fs.Counts {
		fs.Counts[i] = max(fs.Counts[i]-ls.Counts[i], 0)
	}
	tail := hdrhistogram.Import(fs)
	if tail.TotalCount() == 0 {
		return nil
	}
	tailStart := max(l.lastEnd, start)
	tail.SetStartTimeMs(tailStart)
	tail.SetEndTimeMs(max(start+int64(res.Elapsed*1000), tailStart))
	if err := l.w.OutputIntervalHistogram(tail); err != nil {
		l.err = err
	}
	return l.err
}

// ReadHdrLog is summary.ReadHdrLog.
func ReadHdrLog(r io.Reader) ([]*hdrhistogram.Histogram, error) { return summary.ReadHdrLog(r) }

// MergeHdrIntervals is summary.MergeHdrIntervals.
func MergeHdrIntervals(intervals []*hdrhistogram.Histogram) *hdrhistogram.Histogram {
	return summary.MergeHdrIntervals(intervals)
}

// WriteMergedHdrLog writes the intervals of several logs as one log: the
// intervals that start in the same second (of absolute time) merge into
// one, stamped with that second; every value of every input is in exactly
// one output interval.
func WriteMergedHdrLog(w io.Writer, intervals []*hdrhistogram.Histogram, comment string) error {
	if len(intervals) == 0 {
		return errors.New("load: no intervals to merge")
	}
	type bucket struct {
		h   *hdrhistogram.Histogram
		end int64
	}
	buckets := map[int64]*bucket{}
	var secs []int64
	start := intervals[0].StartTimeMs()
	for _, i := range intervals {
		start = min(start, i.StartTimeMs())
		s := i.StartTimeMs() / 1000
		b := buckets[s]
		if b == nil {
			b = &bucket{h: newHistogram()}
			buckets[s] = b
			secs = append(secs, s)
		}
		b.h.Merge(i)
		b.end = max(b.end, i.EndTimeMs())
	}
	slices.Sort(secs)
	l := NewHdrLog(w, comment)
	l.writeHeader(start)
	for _, s := range secs {
		b := buckets[s]
		b.h.SetStartTimeMs(s * 1000)
		b.h.SetEndTimeMs(max(b.end, s*1000+int64(time.Second/time.Millisecond)))
		if err := l.w.OutputIntervalHistogram(b.h); err != nil {
			return err
		}
	}
	return l.err
}
