package reports

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/mailcheck/mailcheck/conformance/verdict"
	"github.com/mailcheck/mailcheck/load/summary"
)

// Set is the results one report covers, by kind: conformance reports,
// load runs (the segments of each distributed run merged, GroupLoadRuns)
// and HdrHistogram interval logs.
type Set struct {
	Conformance []File
	Runs        []LoadRun
	Logs        []File
	// Warnings note load runs that do not look whole.
	Warnings []string
}

// NewSet sorts decoded files by kind and merges load segments into runs.
func NewSet(files []File) (*Set, error) {
	s := &Set{}
	for _, f := range files {
		switch {
		case f.Conformance != nil:
			s.Conformance = append(s.Conformance, f)
		case f.Intervals != nil:
			s.Logs = append(s.Logs, f)
		}
	}
	var err error
	s.Runs, s.Warnings, err = GroupLoadRuns(files)
	return s, err
}

// Empty reports whether the set holds no result and no log.
func (s *Set) Empty() bool {
	return len(s.Conformance) == 0 && len(s.Runs) == 0 && len(s.Logs) == 0
}

// Reports returns the conformance reports.
func (s *Set) Reports() []*verdict.Report {
	out := make([]*verdict.Report, len(s.Conformance))
	for i, f := range s.Conformance {
		out[i] = f.Conformance
	}
	return out
}

// MergedConformance merges the conformance reports into one
// (verdict.MergeReports); nil when there are none.
func (s *Set) MergedConformance() (*verdict.Report, error) {
	if len(s.Conformance) == 0 {
		return nil, nil
	}
	return verdict.MergeReports(s.Reports())
}

// OneRun returns the load run when there is exactly one, else nil: the
// run the logs are compared with and the merged JSON result is of.
func (s *Set) OneRun() *summary.Result {
	if len(s.Runs) != 1 {
		return nil
	}
	return s.Runs[0].Result
}

// HTMLRuns returns the runs of an HTML report: conformance reports
// labelled by their file names, then the load runs.
func (s *Set) HTMLRuns() []Run {
	var out []Run
	for _, c := range s.Conformance {
		out = append(out, Run{Label: filepath.Base(c.Path), Conformance: c.Conformance})
	}
	for _, r := range s.Runs {
		out = append(out, Run{Label: r.Label, Load: r.Result})
	}
	return out
}

// Compared reports whether a report of s against base compares runs: two
// runs of a kind or more, baselines included.
func (s *Set) Compared(base *Set) bool {
	return len(s.Conformance)+len(base.Conformance) > 1 || len(s.Runs)+len(base.Runs) > 1
}

// WriteText writes the text summaries for people: each conformance report
// (WriteText), then each load run (WriteLoadText) headed by its label when
// there are several.
func (s *Set) WriteText(w io.Writer, opts TextOptions) error {
	for i, f := range s.Conformance {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := WriteText(w, f.Conformance, opts); err != nil {
			return err
		}
	}
	for i, r := range s.Runs {
		if i > 0 || len(s.Conformance) > 0 {
			fmt.Fprintln(w)
		}
		if len(s.Runs) > 1 {
			fmt.Fprintf(w, "== %s\n", r.Label)
		}
		if err := WriteLoadText(w, r.Result); err != nil {
			return err
		}
	}
	return nil
}

// Judge judges each load run by the thresholds.
func (s *Set) Judge(thresholds []summary.Threshold) []LoadJudgement {
	var out []LoadJudgement
	for _, r := range s.Runs {
		out = append(out, LoadJudgement{Name: r.Label, Result: r.Result, Outcomes: summary.Evaluate(r.Result, thresholds)})
	}
	return out
}

// Breaches returns the thresholds the run breached.
func (j LoadJudgement) Breaches() []summary.Breach { return summary.Breaches(j.Outcomes) }

// ReadSet reads result files (ReadFiles) into a Set (NewSet); logs says
// whether HdrHistogram interval logs are acceptable among them.
func ReadSet(paths []string, logs bool) (*Set, error) {
	files, err := ReadFiles(paths, logs)
	if err != nil {
		return nil, err
	}
	return NewSet(files)
}

// AddLogs reads HdrHistogram interval logs into the set.
func (s *Set) AddLogs(paths []string) error {
	for _, path := range paths {
		l, err := ReadHdrLogFile(path)
		if err != nil {
			return err
		}
		s.Logs = append(s.Logs, l)
	}
	return nil
}

// CheckBaseline refuses a set that cannot be the baseline of a report
// (HTMLOptions.Baselines): more than one conformance report, or load
// results of more than one run.
func (s *Set) CheckBaseline() error {
	switch {
	case len(s.Conformance) > 1:
		return errors.New("more than one conformance result")
	case len(s.Runs) > 1:
		return fmt.Errorf("the load results are %d runs, not the segments of one", len(s.Runs))
	}
	return nil
}

// Regressions lists what got worse in the set's runs against
// opts.Baselines (Regressions); none when the set holds no result.
func (s *Set) Regressions(opts HTMLOptions) ([]string, error) {
	runs := s.HTMLRuns()
	if len(runs) == 0 {
		return nil, nil
	}
	return Regressions(runs, opts)
}

// WriteMergedJSON writes the set's results merged into one JSON result:
// the conformance reports merged (MergedConformance), or else the one load
// run, its segments merged.
func (s *Set) WriteMergedJSON(w io.Writer) error {
	if len(s.Conformance) > 0 {
		merged, err := s.MergedConformance()
		if err != nil {
			return err
		}
		return WriteJSON(w, merged)
	}
	if r := s.OneRun(); r != nil {
		return WriteLoadJSON(w, r)
	}
	return errors.New("no JSON result to merge, or more than one load run")
}
