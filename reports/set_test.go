package reports

import (
	"bytes"
	"os"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mailcheck/mailcheck/load/summary"
)

// TestSetOfSegments: two segments of one run and a conformance report make
// a set of one load run and one report; its text heads nothing (one run of
// each kind), its merged JSON is the report's, and thresholds judge the
// merged run.
func TestSetOfSegments(t *testing.T) {
	files := segments(t, []string{"s1", "s2"}, []int{1, 2}, 2)
	conf, err := ReadFiles([]string{"testdata/conformance.json"}, false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSet(append(files, conf...))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Runs) != 1 || len(s.Conformance) != 1 || s.OneRun() == nil || s.Empty() || len(s.HTMLRuns()) != 2 {
		t.Fatalf("set: %d runs, %d reports", len(s.Runs), len(s.Conformance))
	}
	var text bytes.Buffer
	if err := s.WriteText(&text, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text.String(), "== ") || !strings.Contains(text.String(), "merged: 2 segments") {
		t.Errorf("text:\n%s", text.String())
	}
	var merged bytes.Buffer
	if err := s.WriteMergedJSON(&merged); err != nil || !strings.Contains(merged.String(), `"kind": "mailcheck.conformance"`) {
		t.Errorf("merged JSON of a set with a report: %v %.100s", err, merged.String())
	}
	ths, err := summary.ParseThresholds([]string{"errors<0", "rate>0"})
	if err != nil {
		t.Fatal(err)
	}
	judgements := s.Judge(ths)
	var out bytes.Buffer
	if n := WriteJudgements(&out, judgements); n != 1 || !strings.Contains(out.String(), "thresholds breached") || strings.Contains(out.String(), "s1.json + s2.json:") {
		t.Errorf("%d breached:\n%s", n, out.String())
	}
	if err := s.CheckBaseline(); err != nil {
		t.Errorf("one run and one report as a baseline: %v", err)
	}
	if s.Compared(&Set{}) {
		t.Error("one report and one run, of two kinds, compared")
	}
}

// TestSetOfRuns: runs of other targets are separate runs, headed by their
// labels, judged under them, and no baseline or merged JSON result.
func TestSetOfRuns(t *testing.T) {
	files := segments(t, []string{"a", "b"}, []int{0, 0}, 1)
	s, err := NewSet(files)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := s.WriteText(&text, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "== a.json\n") || !strings.Contains(text.String(), "== b.json\n") {
		t.Errorf("text of two runs:\n%s", text.String())
	}
	if s.OneRun() != nil || s.CheckBaseline() == nil || !s.Compared(&Set{}) {
		t.Error("two runs: no one run, no baseline, compared")
	}
	if err := s.WriteMergedJSON(&bytes.Buffer{}); err == nil {
		t.Error("two runs merged into one JSON result")
	}
	ths, _ := summary.ParseThresholds([]string{"errors<0"})
	var out bytes.Buffer
	if n := WriteJudgements(&out, s.Judge(ths)); n != 2 || !strings.Contains(out.String(), "\na.json:\nthresholds breached") {
		t.Errorf("%d breached:\n%s", n, out.String())
	}
	var regressions bytes.Buffer
	WriteRegressions(&regressions, nil)
	WriteRegressions(&regressions, []string{"p99 worse"})
	if regressions.String() != "\ncompared: no regression\n\ncompared: 1 regressions\n  p99 worse\n" {
		t.Errorf("regressions text %q", regressions.String())
	}
}

// TestHdrLogText: logs holding exactly a run's transactions agree with its
// JSON result; a log of other values differs, and says so.
func TestHdrLogText(t *testing.T) {
	run := fixtureLoad(t)
	h, err := hdrhistogram.Decode([]byte(run.Phases[summary.PhaseTransaction].Histogram))
	if err != nil {
		t.Fatal(err)
	}
	same := File{Path: "same.hlog", Intervals: []*hdrhistogram.Histogram{h}}
	var out bytes.Buffer
	WriteHdrLogText(&out, []File{same}, run)
	if !strings.Contains(out.String(), "agree exactly") || !strings.Contains(out.String(), "merged JSON results") {
		t.Errorf("the same values:\n%s", out.String())
	}
	other := summary.NewHistogram()
	other.RecordValue(12345)
	out.Reset()
	WriteHdrLogText(&out, []File{same, {Path: "other.hlog", Intervals: []*hdrhistogram.Histogram{other}}}, run)
	if !strings.Contains(out.String(), "2 files, 2 intervals") || !strings.Contains(out.String(), "differ") {
		t.Errorf("other values:\n%s", out.String())
	}
	out.Reset()
	WriteHdrLogText(&out, []File{same}, nil)
	if strings.Contains(out.String(), "JSON") {
		t.Errorf("no JSON result, yet:\n%s", out.String())
	}
}

// TestSetLogsAndBaselines: logs are read into a set; a log that is not one
// is an error naming it; two conformance reports are no baseline.
func TestSetLogsAndBaselines(t *testing.T) {
	s, err := ReadSet([]string{"testdata/conformance.json", "testdata/conformance.json"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckBaseline(); err == nil || !strings.Contains(err.Error(), "more than one conformance result") {
		t.Errorf("two reports as a baseline: %v", err)
	}
	path := t.TempDir() + "/junk.hlog"
	os.WriteFile(path, []byte("junk\n"), 0o644)
	if err := s.AddLogs([]string{path}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a junk log: %v", err)
	}
}
