package reports

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mailcheck/mailcheck/load/summary"
)

// LoadRun is one load run: a result, or the merged results of the
// segments of a distributed run (load --segment i/n).
type LoadRun struct {
	// Label names the run by its files: "seg-1.json + seg-2.json".
	Label  string
	Files  []File
	Result *summary.Result
}

// GroupLoadRuns merges the segments of each distributed run among the
// load results of files (other files are ignored): results with the same
// target and number of segments belong to one run until a segment number
// repeats, so seg-1 seg-1 seg-2 seg-2 make two runs of two segments.
// Results that are not segments are runs of their own. The warnings note
// runs that do not look whole: a segment missing or twice, a lone segment.
func GroupLoadRuns(files []File) ([]LoadRun, []string, error) {
	var runs []LoadRun
	for _, f := range files {
		if f.Load == nil {
			continue
		}
		if i := runLacking(runs, f.Load.Settings); i >= 0 {
			runs[i].Files = append(runs[i].Files, f)
		} else {
			runs = append(runs, LoadRun{Files: []File{f}})
		}
	}
	var warnings []string
	for i := range runs {
		w, err := runs[i].merge()
		if err != nil {
			return nil, nil, err
		}
		warnings = append(warnings, w...)
	}
	return runs, warnings, nil
}

// runLacking returns the first run that a result of settings s joins: one
// of the same target and number of segments that lacks s's segment; -1
// when there is none or s is not a segment.
func runLacking(runs []LoadRun, s summary.Settings) int {
	if s.Segments <= 1 || s.Segment == 0 {
		return -1
	}
	for i, r := range runs {
		g := r.Files[0].Load.Settings
		if g.Segments == s.Segments && g.Segment != 0 && g.Target == s.Target &&
			!slices.ContainsFunc(r.Files, func(h File) bool { return h.Load.Settings.Segment == s.Segment }) {
			return i
		}
	}
	return -1
}

// merge labels the run and merges its segments' results; it returns the
// warnings about them, each prefixed with the label.
func (r *LoadRun) merge() ([]string, error) {
	var names []string
	var parts []*summary.Result
	for _, f := range r.Files {
		names = append(names, filepath.Base(f.Path))
		parts = append(parts, f.Load)
	}
	r.Label = strings.Join(names, " + ")
	r.Result = parts[0]
	if len(parts) > 1 {
		merged, err := summary.Merge(parts)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", r.Label, err)
		}
		r.Result = merged
	}
	var warnings []string
	for _, w := range SegmentWarnings(parts) {
		warnings = append(warnings, r.Label+": "+w)
	}
	if s := parts[0].Settings; len(parts) == 1 && s.Segments > 1 && s.Segment != 0 {
		warnings = append(warnings, fmt.Sprintf("%s: segment %d of %d alone: the other segments' results are missing", r.Label, s.Segment, s.Segments))
	}
	return warnings, nil
}

// maxListedSegments bounds the segments SegmentWarnings names one by one.
const maxListedSegments = 1000

// SegmentWarnings notes results that do not look like the segments of one
// run: a segment twice, a segment missing, different segment counts.
func SegmentWarnings(rs []*summary.Result) []string {
	if len(rs) < 2 {
		return nil
	}
	n := rs[0].Settings.Segments
	seen := map[int]int{}
	for _, r := range rs {
		if r.Settings.Segments != n {
			return []string{fmt.Sprintf("results of %d and of %d segments merged", n, r.Settings.Segments)}
		}
		seen[r.Settings.Segment]++
	}
	if n > maxListedSegments {
		return countedSegmentWarnings(n, seen)
	}
	var out []string
	for i := 1; i <= n; i++ {
		switch c := seen[i]; {
		case c == 0 && n > 1:
			out = append(out, fmt.Sprintf("segment %d/%d is missing", i, n))
		case c > 1 && n > 1:
			out = append(out, fmt.Sprintf("segment %d/%d appears %d times", i, n, c))
		}
	}
	return out
}

// countedSegmentWarnings are SegmentWarnings for a run of n segments, too
// many to walk (a result may claim any number): the missing ones are
// counted, not named.
func countedSegmentWarnings(n int, seen map[int]int) []string {
	var out []string
	present := 0
	for _, seg := range slices.Sorted(maps.Keys(seen)) {
		if seg >= 1 && seg <= n {
			present++
		}
		if c := seen[seg]; c > 1 {
			out = append(out, fmt.Sprintf("segment %d/%d appears %d times", seg, n, c))
		}
	}
	if missing := n - present; missing > 0 {
		out = append(out, fmt.Sprintf("%d of %d segments are missing", missing, n))
	}
	return out
}
