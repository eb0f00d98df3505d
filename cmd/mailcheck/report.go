package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/spf13/cobra"

	"github.com/mailcheck/mailcheck/conformance"
	"github.com/mailcheck/mailcheck/load"
	"github.com/mailcheck/mailcheck/reports"
)

type reportFlags struct {
	htmlFile, jsonFile, junitFile, hdrOut, title string
	baselines, hdrLogs, thresholds               []string
	tolerance                                    string
	failOnRegression                             bool
}

func newReportCommand() *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report RESULT.json [RESULT.json...]",
		Short: "Turn saved results into an HTML report, JSON and JUnit; compare runs; merge load segments",
		Long: `report reads the JSON results that conform and load write with --json (the
kind of each comes from its "kind" field), prints them, and writes them
again for people and for CI:

  -o FILE.html   one self-contained HTML page: no scripts, fonts,
                 stylesheets or images from elsewhere (CSS and SVG charts
                 inline), so it opens offline, attached to a CI job or
                 mailed. Conformance: counts by protocol and verdict, every
                 check (failures first) with its message and wire
                 transcript. Load: settings, throughput over time, the
                 latency percentile spectrum of the transaction and of each
                 phase, percentiles, corrected and uncorrected figures,
                 errors.
  --json FILE    the merged result (the documented model): load segments
                 merged into one, or conformance reports merged into one.
  --junit FILE   JUnit XML: one testcase per conformance check, and one per
                 --threshold for each load run.

Load results that are segments of one distributed run (load --segment i/n)
merge into one exact result: counts add up, latency histograms merge
exactly, the per-second series add up second by second. Other results are
separate runs, shown one after another.

Several runs of a kind are compared side by side, each with the first, or
with --baseline FILE (repeatable: the segments of a baseline run merge
too): differences beyond --tolerance are marked as regressions or
improvements; the regressions are also printed, and --fail-on-regression
makes them exit 1.

HdrHistogram interval logs (from load --hdr-log) given with --hdr-log-merge,
or as arguments (they are told from JSON by their content), merge too: every
interval of every log goes into one histogram, whose transaction
percentiles are printed (and compared with the merged JSON result);
--hdr-log-out writes one merged interval log.

Exit codes: 0 written; 1 a --threshold was breached, or a regression was
found with --fail-on-regression; 2 could not run (a file unreadable,
malformed or of an unknown kind, results that do not merge, a usage error).`,
		Example: `  # An HTML report of a conformance run
  mailcheck conform smtp://mx.test:25 --json conform.json
  mailcheck report conform.json -o report.html

  # A candidate against a baseline, failing CI on a regression
  mailcheck report candidate.json --baseline main.json -o compare.html --fail-on-regression

  # The merged result of three load generators, judged as one run
  mailcheck report seg-1.json seg-2.json seg-3.json --json merged.json \
      --threshold 'p99<50ms' --threshold 'rate>15000' --junit load.xml -o load.html

  # Merge their HdrHistogram logs into one log, and compare with the JSON merge
  mailcheck report seg-*.json --hdr-log-merge seg-*.hlog --hdr-log-out merged.hlog`,
		RunE: func(cmd *cobra.Command, args []string) error { return runReport(cmd, args, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.htmlFile, "output", "o", "", "write the HTML report to this file")
	fl.StringVar(&f.title, "title", "", "the HTML report's title (default: mailcheck report)")
	fl.StringArrayVar(&f.baselines, "baseline", nil, "a result to compare the others with (repeatable: the segments of one load run, and a conformance result)")
	fl.StringVar(&f.tolerance, "tolerance", "10%", "a load figure that differs from the baseline's by more than this is a regression or an improvement")
	fl.BoolVar(&f.failOnRegression, "fail-on-regression", false, "exit 1 when a run is worse than its baseline")
	fl.StringVar(&f.jsonFile, "json", "", "write the merged result as JSON to this file")
	fl.StringVar(&f.junitFile, "junit", "", "write JUnit XML to this file (conformance checks; load --threshold verdicts)")
	fl.StringArrayVar(&f.hdrLogs, "hdr-log-merge", nil, "an HdrHistogram interval log to merge (repeatable; more logs may follow as arguments)")
	fl.StringVar(&f.hdrOut, "hdr-log-out", "", "write the merged HdrHistogram interval log to this file")
	fl.StringArrayVar(&f.thresholds, "threshold", nil, "pass condition on each load run, repeatable: "+load.ThresholdSyntax)
	return cmd
}

// hdrLogFile is an HdrHistogram interval log read from a file.
type hdrLogFile struct {
	path      string
	intervals []*hdrhistogram.Histogram
}

// resultFile is a JSON result read from a file.
type resultFile struct {
	path string
	load *load.Result
	conf *conformance.Report
}

// inputs are the files given to report, by kind.
type inputs struct {
	loads []resultFile
	confs []resultFile
	logs  []hdrLogFile
}

// readInputs reads result files and HdrHistogram logs; hdrAllowed says
// whether a log is acceptable among them.
func readInputs(paths []string, hdrAllowed bool) (inputs, error) {
	var in inputs
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return in, err
		}
		if trimmed := bytes.TrimSpace(data); len(trimmed) == 0 || trimmed[0] != '{' {
			if !hdrAllowed {
				return in, fmt.Errorf("%s: not a JSON result", path)
			}
			l, err := parseHdrLog(path, data)
			if err != nil {
				return in, fmt.Errorf("%s: neither a JSON result nor an HdrHistogram log: %v", path, err)
			}
			in.logs = append(in.logs, l)
			continue
		}
		var head struct {
			Kind    string `json:"kind"`
			Version int    `json:"version"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			return in, jsonError(path, data, err)
		}
		switch head.Kind {
		case load.ResultKind:
			// The version first: a newer model may not decode into this one.
			if head.Version > load.ResultVersion {
				return in, fmt.Errorf("%s: a load result of version %d; this mailcheck reads version %d", path, head.Version, load.ResultVersion)
			}
			var r load.Result
			if err := json.Unmarshal(data, &r); err != nil {
				return in, jsonError(path, data, err)
			}
			in.loads = append(in.loads, resultFile{path: path, load: &r})
		case conformance.ReportKind:
			if head.Version > conformance.ReportVersion {
				return in, fmt.Errorf("%s: a conformance result of version %d; this mailcheck reads version %d", path, head.Version, conformance.ReportVersion)
			}
			var r conformance.Report
			if err := json.Unmarshal(data, &r); err != nil {
				return in, jsonError(path, data, err)
			}
			in.confs = append(in.confs, resultFile{path: path, conf: &r})
		default:
			return in, fmt.Errorf("%s: kind %q: want %q or %q", path, head.Kind, load.ResultKind, conformance.ReportKind)
		}
	}
	return in, nil
}

// jsonError names the file and the line and column where its JSON went
// wrong.
func jsonError(path string, data []byte, err error) error {
	var offset int64 = -1
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		offset = syntax.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	}
	if offset < 0 {
		return fmt.Errorf("%s: %v", path, err)
	}
	offset = min(offset, int64(len(data)))
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	if syntax != nil && syntax.Error() == "unexpected end of JSON input" {
		return fmt.Errorf("%s:%d:%d: truncated: the JSON ends after %d octets, in the middle of a value", path, line, col, len(data))
	}
	return fmt.Errorf("%s:%d:%d (octet %d): %v", path, line, col, offset, err)
}

// loadRun is one load run: a result, or the merged segments of one.
type loadRun struct {
	label  string
	files  []resultFile
	result *load.Result
}

// groupLoadRuns merges the segments of each distributed run: results
// with the same target and number of segments belong to one run until a
// segment number repeats. Results that are not segments are runs of
// their own.
func groupLoadRuns(files []resultFile) ([]loadRun, []string, error) {
	var runs []loadRun
	var warnings []string
	for _, f := range files {
		s := f.load.Settings
		if s.Segments <= 1 || s.Segment == 0 {
			runs = append(runs, loadRun{files: []resultFile{f}})
			continue
		}
		// The first run of the same target and number of segments that
		// lacks this segment takes it: seg-1 seg-1 seg-2 seg-2 make two
		// runs of two segments.
		joined := false
		for i := range runs {
			g := runs[i].files[0].load.Settings
			if g.Segments == s.Segments && g.Segment != 0 && g.Target == s.Target &&
				!slices.ContainsFunc(runs[i].files, func(h resultFile) bool { return h.load.Settings.Segment == s.Segment }) {
				runs[i].files = append(runs[i].files, f)
				joined = true
				break
			}
		}
		if !joined {
			runs = append(runs, loadRun{files: []resultFile{f}})
		}
	}
	for i := range runs {
		r := &runs[i]
		var names []string
		var parts []*load.Result
		for _, f := range r.files {
			names = append(names, filepath.Base(f.path))
			parts = append(parts, f.load)
		}
		r.label = strings.Join(names, " + ")
		if len(parts) == 1 {
			r.result = parts[0]
		} else {
			merged, err := load.Merge(parts)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v", r.label, err)
			}
			r.result = merged
		}
		for _, w := range segmentWarnings(parts) {
			warnings = append(warnings, r.label+": "+w)
		}
		if s := parts[0].Settings; len(parts) == 1 && s.Segments > 1 && s.Segment != 0 {
			warnings = append(warnings, fmt.Sprintf("%s: segment %d of %d alone: the other segments' results are missing", r.label, s.Segment, s.Segments))
		}
	}
	return runs, warnings, nil
}

// parseTolerance reads "10%" or "0.1".
func parseTolerance(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("--tolerance %q: want a share such as 10%% or 0.1", s)
	}
	if pct {
		v /= 100
	}
	if v == 0 {
		// HTMLOptions takes 0 for its default: any difference at all is
		// the smallest positive tolerance.
		v = math.SmallestNonzeroFloat64
	}
	return v, nil
}

func runReport(cmd *cobra.Command, args []string, f reportFlags) error {
	out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	thresholds, err := load.ParseThresholds(f.thresholds)
	if err != nil {
		return usageError{fmt.Errorf("--threshold: %v", err)}
	}
	tolerance, err := parseTolerance(f.tolerance)
	if err != nil {
		return usageError{err}
	}
	if len(args) == 0 && len(f.hdrLogs) == 0 {
		return usageError{errors.New("no result files (see `mailcheck report --help`)")}
	}
	if strings.HasSuffix(strings.ToLower(f.htmlFile), ".hlog") {
		return usageError{fmt.Errorf("-o %s: -o writes the HTML report; the merged HdrHistogram log goes to --hdr-log-out", f.htmlFile)}
	}
	in, err := readInputs(args, true)
	if err != nil {
		return usageError{err}
	}
	for _, path := range f.hdrLogs {
		l, err := readHdrLogFile(path)
		if err != nil {
			return usageError{err}
		}
		in.logs = append(in.logs, l)
	}
	base, err := readInputs(f.baselines, false)
	if err != nil {
		return usageError{fmt.Errorf("--baseline: %v", err)}
	}
	if len(base.confs) > 1 {
		return usageError{errors.New("--baseline: more than one conformance result")}
	}
	runs, warnings, err := groupLoadRuns(in.loads)
	if err != nil {
		return exitError{exitCannotRun, err}
	}
	baseRuns, baseWarnings, err := groupLoadRuns(base.loads)
	if err != nil {
		return exitError{exitCannotRun, fmt.Errorf("--baseline: %v", err)}
	}
	if len(baseRuns) > 1 {
		return usageError{fmt.Errorf("--baseline: the load results are %d runs, not the segments of one", len(baseRuns))}
	}
	for _, w := range append(warnings, baseWarnings...) {
		fmt.Fprintln(errw, "report: warning:", w)
	}
	switch {
	case len(runs) == 0 && len(in.confs) == 0 && len(in.logs) == 0:
		return usageError{errors.New("no results to report (only baselines)")}
	case f.hdrOut != "" && len(in.logs) == 0:
		return usageError{errors.New("--hdr-log-out: no HdrHistogram logs to merge (--hdr-log-merge)")}
	case len(thresholds) > 0 && len(runs) == 0:
		return usageError{errors.New("--threshold: no load results to judge")}
	case f.jsonFile != "" && len(runs) > 0 && len(in.confs) > 0:
		return usageError{errors.New("--json: load and conformance results do not merge into one JSON result; write them separately")}
	case f.jsonFile != "" && len(runs) > 1:
		return usageError{fmt.Errorf("--json: the load results are %d runs, not the segments of one; write them separately", len(runs))}
	case f.jsonFile != "" && len(runs) == 0 && len(in.confs) == 0:
		return usageError{errors.New("--json: no JSON results to merge (HdrHistogram logs merge with --hdr-log-out)")}
	case f.htmlFile != "" && len(runs) == 0 && len(in.confs) == 0:
		return usageError{errors.New("-o: no JSON results for an HTML report")}
	}

	// Text for people on stdout.
	var mergedConf *conformance.Report
	if len(in.confs) > 0 {
		reps := make([]*conformance.Report, len(in.confs))
		for i, c := range in.confs {
			reps[i] = c.conf
		}
		if mergedConf, err = conformance.MergeReports(reps); err != nil {
			return exitError{exitCannotRun, err}
		}
		for i, r := range reps {
			if i > 0 {
				fmt.Fprintln(out)
			}
			if err := reports.WriteText(out, r, reports.TextOptions{Color: isTerminal(out)}); err != nil {
				return err
			}
		}
	}
	for i, r := range runs {
		if i > 0 || len(in.confs) > 0 {
			fmt.Fprintln(out)
		}
		if len(runs) > 1 {
			fmt.Fprintf(out, "== %s\n", r.label)
		}
		if err := reports.WriteLoadText(out, r.result); err != nil {
			return err
		}
	}
	if len(in.logs) > 0 {
		var res *load.Result
		if len(runs) == 1 {
			res = runs[0].result
		}
		if err := reportHdrLogs(out, in.logs, res, f.hdrOut); err != nil {
			return err
		}
	}

	// The report's runs, baselines and comparisons.
	var htmlRuns, baselines []reports.Run
	for _, c := range in.confs {
		htmlRuns = append(htmlRuns, reports.Run{Label: filepath.Base(c.path), Conformance: c.conf})
	}
	for _, r := range runs {
		htmlRuns = append(htmlRuns, reports.Run{Label: r.label, Load: r.result})
	}
	for _, c := range base.confs {
		baselines = append(baselines, reports.Run{Label: filepath.Base(c.path), Conformance: c.conf})
	}
	for _, r := range baseRuns {
		baselines = append(baselines, reports.Run{Label: r.label, Load: r.result})
	}
	hopts := reports.HTMLOptions{Title: f.title, Tool: versionString(), Baselines: baselines, Tolerance: tolerance}
	var regressions []string
	if len(htmlRuns) > 0 {
		if regressions, err = reports.Regressions(htmlRuns, hopts); err != nil {
			return exitError{exitCannotRun, err}
		}
		if len(in.confs)+len(base.confs) > 1 || len(runs)+len(baseRuns) > 1 {
			if len(regressions) == 0 {
				fmt.Fprintln(out, "\ncompared: no regression")
			} else {
				fmt.Fprintf(out, "\ncompared: %d regressions\n", len(regressions))
				for _, r := range regressions {
					fmt.Fprintln(out, "  "+r)
				}
			}
		}
	}

	// Thresholds judge each load run.
	var judgements []reports.LoadJudgement
	breached := 0
	for _, r := range runs {
		outcomes := load.Evaluate(r.result, thresholds)
		judgements = append(judgements, reports.LoadJudgement{Name: r.label, Result: r.result, Outcomes: outcomes})
		var breaches []load.Breach
		for _, o := range outcomes {
			if !o.Met {
				breaches = append(breaches, load.Breach{Threshold: o.Threshold, Actual: o.Actual, Message: o.Message})
			}
		}
		if len(breaches) > 0 {
			if len(runs) > 1 {
				fmt.Fprintf(out, "\n%s:", r.label)
			}
			printBreaches(out, breaches)
			breached += len(breaches)
		}
	}

	// Files.
	var files []struct {
		path  string
		write func(io.Writer) error
	}
	add := func(path string, write func(io.Writer) error) {
		if path != "" {
			files = append(files, struct {
				path  string
				write func(io.Writer) error
			}{path, write})
		}
	}
	add(f.htmlFile, func(w io.Writer) error { return reports.WriteHTML(w, htmlRuns, hopts) })
	switch {
	case f.jsonFile != "" && mergedConf != nil:
		add(f.jsonFile, func(w io.Writer) error { return reports.WriteJSON(w, mergedConf) })
	case f.jsonFile != "" && len(runs) == 1:
		add(f.jsonFile, func(w io.Writer) error { return reports.WriteLoadJSON(w, runs[0].result) })
	}
	add(f.junitFile, func(w io.Writer) error { return reports.WriteCombinedJUnit(w, mergedConf, judgements) })
	for _, file := range files {
		if err := writeFileWith(file.path, file.write); err != nil {
			return exitError{exitCannotRun, err}
		}
	}

	switch {
	case breached > 0:
		return exitError{exitFailure, fmt.Errorf("%d thresholds breached", breached)}
	case f.failOnRegression && len(regressions) > 0:
		return exitError{exitFailure, fmt.Errorf("%d regressions against the baseline", len(regressions))}
	}
	if len(thresholds) > 0 {
		fmt.Fprintf(out, "\nall %d thresholds met\n", len(thresholds))
	}
	return nil
}

func readHdrLogFile(path string) (hdrLogFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return hdrLogFile{}, err
	}
	l, err := parseHdrLog(path, data)
	if err != nil {
		return l, fmt.Errorf("%s: %v", path, err)
	}
	return l, nil
}

func parseHdrLog(path string, data []byte) (hdrLogFile, error) {
	intervals, err := load.ReadHdrLog(bytes.NewReader(data))
	if err != nil {
		return hdrLogFile{}, err
	}
	if len(intervals) == 0 {
		return hdrLogFile{}, errors.New("no HdrHistogram intervals")
	}
	return hdrLogFile{path, intervals}, nil
}

// reportHdrLogs merges the logs into one histogram and prints its
// percentiles beside the merged JSON result's, and writes the merged log.
func reportHdrLogs(w io.Writer, logs []hdrLogFile, res *load.Result, outPath string) error {
	var all []*hdrhistogram.Histogram
	for _, l := range logs {
		all = append(all, l.intervals...)
	}
	h := load.MergeHdrIntervals(all)
	fmt.Fprintf(w, "\nHdrHistogram logs: %d files, %d intervals, %d transactions\n", len(logs), len(all), h.TotalCount())
	pct := []float64{50, 90, 99, 99.9, 99.99}
	fmt.Fprintf(w, "  %-26s %9s", "transaction (ms)", "count")
	for _, p := range pct {
		fmt.Fprintf(w, " %9s", fmt.Sprintf("p%g", p))
	}
	fmt.Fprintf(w, " %9s\n", "max")
	row := func(name string, h *hdrhistogram.Histogram) {
		fmt.Fprintf(w, "  %-26s %9d", name, h.TotalCount())
		for _, p := range pct {
			fmt.Fprintf(w, " %9.3f", float64(h.ValueAtPercentile(p))/1000)
		}
		fmt.Fprintf(w, " %9.3f\n", float64(h.Max())/1000)
	}
	row("merged logs", h)
	if res != nil && res.Phases[load.PhaseTransaction] != nil {
		tx := res.Phases[load.PhaseTransaction]
		if jh, err := hdrhistogram.Decode([]byte(tx.Histogram)); err == nil {
			row("merged JSON results", jh)
			if sameHistogram(h, jh) {
				fmt.Fprintln(w, "  the logs and the JSON results agree exactly")
			} else {
				fmt.Fprintln(w, "  the logs and the JSON results differ (logs of other runs, or a log or result missing?)")
			}
		}
	}
	if outPath != "" {
		comment := fmt.Sprintf("mailcheck report: %d merged logs (%s)", len(logs), versionString())
		if err := writeFileWith(outPath, func(f io.Writer) error { return load.WriteMergedHdrLog(f, all, comment) }); err != nil {
			return exitError{exitCannotRun, err}
		}
		fmt.Fprintf(w, "  merged log written to %s\n", outPath)
	}
	return nil
}

// sameHistogram compares two latency histograms value by value (their
// geometries may differ in storage but not in meaning).
func sameHistogram(a, b *hdrhistogram.Histogram) bool {
	if a.TotalCount() != b.TotalCount() {
		return false
	}
	da, db := a.Distribution(), b.Distribution()
	nonzero := func(bars []hdrhistogram.Bar) []hdrhistogram.Bar {
		return slices.DeleteFunc(bars, func(b hdrhistogram.Bar) bool { return b.Count == 0 })
	}
	return slices.Equal(nonzero(da), nonzero(db))
}

// segmentWarnings notes results that do not look like the segments of one
// run: a segment twice, a segment missing, different segment counts.
func segmentWarnings(rs []*load.Result) []string {
	if len(rs) < 2 {
		return nil
	}
	var out []string
	n := rs[0].Settings.Segments
	seen := map[int]int{}
	for _, r := range rs {
		if r.Settings.Segments != n {
			return []string{fmt.Sprintf("results of %d and of %d segments merged", n, r.Settings.Segments)}
		}
		seen[r.Settings.Segment]++
	}
	if n > maxListedSegments {
		// A result may claim any number of segments: count the missing
		// ones rather than walk them all.
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

// maxListedSegments bounds the segments segmentWarnings names one by one.
const maxListedSegments = 1000
