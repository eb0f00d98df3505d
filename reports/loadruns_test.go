package reports

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/mailcheck/mailcheck/conformance/verdict"
	"github.com/mailcheck/mailcheck/load/summary"
)

// fixtureLoad reads testdata/load.json, a real load result.
func fixtureLoad(t *testing.T) *summary.Result {
	t.Helper()
	data, err := os.ReadFile("testdata/load.json")
	if err != nil {
		t.Fatal(err)
	}
	var r summary.Result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// segments returns load files named names, the ith of them segment
// segs[i] of n.
func segments(t *testing.T, names []string, segs []int, n int) []File {
	var files []File
	for i, seg := range segs {
		r := fixtureLoad(t)
		r.Settings.Segment, r.Settings.Segments = seg, n
		files = append(files, File{Path: "out/" + names[i] + ".json", Load: r})
	}
	return files
}

// TestGroupLoadRunsInterleaved: the segments of two distributed runs
// given interleaved (1, 1, 2, 2) merge into two runs of two, labelled by
// their files' names, and a lone segment is warned about.
func TestGroupLoadRunsInterleaved(t *testing.T) {
	files := segments(t, []string{"a1", "b1", "a2", "b2"}, []int{1, 1, 2, 2}, 2)
	runs, warnings, err := GroupLoadRuns(files)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Label != "a1.json + a2.json" || runs[1].Label != "b1.json + b2.json" || len(warnings) != 0 {
		t.Errorf("runs %d (%q, %q), warnings %q", len(runs), runs[0].Label, runs[len(runs)-1].Label, warnings)
	}
	if want := 2 * fixtureLoad(t).Accepted; runs[0].Result.Accepted != want {
		t.Errorf("merged accepted %d, want %d", runs[0].Result.Accepted, want)
	}
	_, warnings, _ = GroupLoadRuns(files[:1])
	if len(warnings) != 1 || !strings.Contains(warnings[0], "alone") {
		t.Errorf("a lone segment: warnings %q", warnings)
	}
}

// TestGroupLoadRunsApart: results that are not segments, or segments of
// other targets, are runs of their own; files of other kinds are no runs.
func TestGroupLoadRunsApart(t *testing.T) {
	files := segments(t, []string{"x", "y"}, []int{0, 0}, 1)
	other := segments(t, []string{"p", "q"}, []int{1, 2}, 2)
	other[1].Load.Settings.Target = "smtp://elsewhere:25"
	files = append(files, other...)
	files = append(files, File{Path: "c.json", Conformance: &verdict.Report{}})
	runs, warnings, err := GroupLoadRuns(files)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, r := range runs {
		labels = append(labels, r.Label)
	}
	if want := []string{"x.json", "y.json", "p.json", "q.json"}; !slices.Equal(labels, want) {
		t.Errorf("runs %q, want %q", labels, want)
	}
	if len(warnings) != 2 {
		t.Errorf("warnings %q, want two lone segments", warnings)
	}
}

// TestSegmentWarnings: a missing segment, a segment twice, segment counts
// that differ, and a huge claimed count, which is counted, not walked.
func TestSegmentWarnings(t *testing.T) {
	res := func(seg, n int) *summary.Result {
		return &summary.Result{Settings: summary.Settings{Segment: seg, Segments: n}}
	}
	for _, tc := range []struct {
		name string
		rs   []*summary.Result
		want []string
	}{
		{"whole", []*summary.Result{res(1, 2), res(2, 2)}, nil},
		{"one", []*summary.Result{res(1, 2)}, nil},
		{"missing", []*summary.Result{res(1, 3), res(3, 3)}, []string{"segment 2/3 is missing"}},
		{"twice", []*summary.Result{res(1, 2), res(1, 2), res(2, 2)}, []string{"segment 1/2 appears 2 times"}},
		{"counts differ", []*summary.Result{res(1, 2), res(1, 3)}, []string{"results of 2 and of 3 segments merged"}},
		{"huge", []*summary.Result{res(1, 9e15), res(1, 9e15)}, []string{"segment 1/9000000000000000 appears 2 times", "8999999999999999 of 9000000000000000 segments are missing"}},
	} {
		if got := SegmentWarnings(tc.rs); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
