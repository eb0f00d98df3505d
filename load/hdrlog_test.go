package load

import (
	"bytes"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// fakeRun logs n one-second intervals of a run started at start, plus a
// partial last second only the result holds, and returns the log and the
// result.
func fakeRun(t *testing.T, start time.Time, n int, seed int64) ([]byte, *Result) {
	t.Helper()
	var buf bytes.Buffer
	l := NewHdrLog(&buf, "test run")
	final := newHistogram()
	for i := range n {
		h := newHistogram()
		for v := range int64(100) {
			h.RecordValue(seed + v*37 + int64(i)*1000)
		}
		final.Merge(h)
		h.SetStartTimeMs(start.Add(time.Duration(i) * time.Second).UnixMilli())
		h.SetEndTimeMs(start.Add(time.Duration(i+1) * time.Second).UnixMilli())
		l.Interval(h)
	}
	for v := range int64(7) {
		final.RecordValue(50000 + v)
	}
	res := &Result{Kind: ResultKind, Started: start, Elapsed: float64(n) + 0.4,
		Phases: map[Phase]*Latency{PhaseTransaction: summarize(final)}}
	if err := l.Close(res); err != nil {
		t.Fatal(err)
	}
	l.Interval(newHistogram()) // late: dropped
	return buf.Bytes(), res
}

func TestHdrLogHoldsTheResult(t *testing.T) {
	start := time.Date(2026, 3, 4, 5, 6, 7, 250e6, time.UTC)
	log, res := fakeRun(t, start, 3, 500)
	for _, want := range []string{"#test run", "#[StartTime: ", "#[BaseTime: ", `"StartTimestamp"`} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	intervals, err := ReadHdrLog(bytes.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(intervals) != 4 {
		t.Fatalf("%d intervals, want 3 and the partial last one:\n%s", len(intervals), log)
	}
	if got := intervals[0].StartTimeMs(); got != start.UnixMilli() {
		t.Errorf("first interval starts at %d, want %d (absolute)", got, start.UnixMilli())
	}
	if last := intervals[3]; last.TotalCount() != 7 || last.StartTimeMs() != start.Add(3*time.Second).UnixMilli() {
		t.Errorf("last interval: %d values from %d", last.TotalCount(), last.StartTimeMs())
	}
	want, _ := hdrhistogram.Decode([]byte(res.Phases[PhaseTransaction].Histogram))
	if got := MergeHdrIntervals(intervals); !sameCounts(got, want) {
		t.Errorf("the log's intervals merge to %d values, the result has %d", got.TotalCount(), want.TotalCount())
	}
}

func TestWriteMergedHdrLog(t *testing.T) {
	start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	logA, resA := fakeRun(t, start, 3, 500)
	logB, resB := fakeRun(t, start.Add(1300*time.Millisecond), 2, 900)
	var all []*hdrhistogram.Histogram
	for _, l := range [][]byte{logA, logB} {
		iv, err := ReadHdrLog(bytes.NewReader(l))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, iv...)
	}
	var merged bytes.Buffer
	if err := WriteMergedHdrLog(&merged, all, "merged"); err != nil {
		t.Fatal(err)
	}
	back, err := ReadHdrLog(&merged)
	if err != nil {
		t.Fatal(err)
	}
	joint, err := Merge([]*Result{resA, resB})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hdrhistogram.Decode([]byte(joint.Phases[PhaseTransaction].Histogram))
	if got := MergeHdrIntervals(back); !sameCounts(got, want) {
		t.Errorf("merged log has %d values, the merged results %d", got.TotalCount(), want.TotalCount())
	}
	for i := 1; i < len(back); i++ {
		if back[i].StartTimeMs() <= back[i-1].StartTimeMs() || back[i].StartTimeMs()%1000 != 0 {
			t.Errorf("interval %d starts at %d after %d", i, back[i].StartTimeMs(), back[i-1].StartTimeMs())
		}
	}
	if err := WriteMergedHdrLog(&merged, nil, ""); err == nil {
		t.Error("merged nothing")
	}
}

func sameCounts(a, b *hdrhistogram.Histogram) bool {
	if a.TotalCount() != b.TotalCount() {
		return false
	}
	for _, p := range []float64{0, 10, 50, 90, 99, 99.9, 100} {
		if a.ValueAtPercentile(p) != b.ValueAtPercentile(p) {
			return false
		}
	}
	return a.Max() == b.Max() && a.Min() == b.Min()
}
