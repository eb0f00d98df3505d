package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/spf13/cobra"

	"github.com/mailcheck/mailcheck/conformance"
	"github.com/mailcheck/mailcheck/load"
	"github.com/mailcheck/mailcheck/reports"
)

type reportFlags struct {
	jsonFile, hdrOut string
	hdrLogs          []string
	thresholds       []string
}

func newReportCommand() *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report RESULT.json [RESULT.json...]",
		Short: "Print saved results; merge the results and HdrHistogram logs of several load generators",
		Long: `report reads JSON results written with --json and prints them; the kind of
each comes from its "kind" field.

  mailcheck.load         several load results (the segments of one run, from
                         load --segment i/n) merge into one exact result:
                         counts add up, latency histograms merge exactly,
                         the per-second series add up second by second, and
                         the elapsed time is the longest segment's.
                         --json writes the merged result; --threshold
                         judges it, as load does.
  mailcheck.conformance  printed as conform prints it.

HdrHistogram interval logs (from load --hdr-log) given with --hdr-log-merge,
or as arguments (they are told from JSON by their content), merge too: every
interval of every log goes into one histogram, whose transaction
percentiles are printed (and compared with the merged JSON results when
both are given); -o writes one merged interval log, the intervals starting
in the same second merged into one.

Exit codes: 0 printed; 1 a --threshold was breached by the merged load
result; 2 could not run (a file unreadable or of an unknown kind, load and
conformance results mixed, results that do not merge).`,
		Example: `  # The merged result of three load generators
  mailcheck report seg-1.json seg-2.json seg-3.json --json merged.json

  # The same, judged as one run
  mailcheck report seg-*.json --threshold 'p99<50ms' --threshold 'rate>15000'

  # Merge their HdrHistogram logs into one log, and compare with the JSON merge
  mailcheck report seg-*.json --hdr-log-merge seg-*.hlog -o merged.hlog

  # A saved conformance result
  mailcheck report result.json`,
		RunE: func(cmd *cobra.Command, args []string) error { return runReport(cmd, args, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.jsonFile, "json", "", "write the merged load result as JSON to this file")
	fl.StringArrayVar(&f.hdrLogs, "hdr-log-merge", nil, "an HdrHistogram interval log to merge (repeatable; more logs may follow as arguments)")
	fl.StringVarP(&f.hdrOut, "hdr-log-out", "o", "", "write the merged HdrHistogram interval log to this file")
	fl.StringArrayVar(&f.thresholds, "threshold", nil, "pass condition on the merged load result, repeatable: "+load.ThresholdSyntax)
	return cmd
}

// hdrLogFile is an HdrHistogram interval log read from a file.
type hdrLogFile struct {
	path      string
	intervals []*hdrhistogram.Histogram
}

func runReport(cmd *cobra.Command, args []string, f reportFlags) error {
	out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	thresholds, err := load.ParseThresholds(f.thresholds)
	if err != nil {
		return usageError{fmt.Errorf("--threshold: %v", err)}
	}
	if len(args) == 0 && len(f.hdrLogs) == 0 {
		return usageError{errors.New("no result files (see `mailcheck report --help`)")}
	}
	var loads []*load.Result
	var confs []*conformance.Report
	var logs []hdrLogFile
	for _, path := range f.hdrLogs {
		l, err := readHdrLogFile(path)
		if err != nil {
			return usageError{err}
		}
		logs = append(logs, l)
	}
	for _, path := range args {
		data, err := os.ReadFile(path)
		if err != nil {
			return usageError{err}
		}
		if trimmed := bytes.TrimSpace(data); len(trimmed) == 0 || trimmed[0] != '{' {
			l, err := parseHdrLog(path, data)
			if err != nil {
				return usageError{fmt.Errorf("%s: neither a JSON result nor an HdrHistogram log: %v", path, err)}
			}
			logs = append(logs, l)
			continue
		}
		var head struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			return usageError{fmt.Errorf("%s: %v", path, err)}
		}
		switch head.Kind {
		case load.ResultKind:
			var r load.Result
			if err := json.Unmarshal(data, &r); err != nil {
				return usageError{fmt.Errorf("%s: %v", path, err)}
			}
			loads = append(loads, &r)
		case conformance.ReportKind:
			var r conformance.Report
			if err := json.Unmarshal(data, &r); err != nil {
				return usageError{fmt.Errorf("%s: %v", path, err)}
			}
			confs = append(confs, &r)
		default:
			return usageError{fmt.Errorf("%s: kind %q: want %q or %q", path, head.Kind, load.ResultKind, conformance.ReportKind)}
		}
	}
	switch {
	case len(loads) > 0 && len(confs) > 0:
		return usageError{errors.New("load and conformance results do not mix in one report")}
	case len(confs) > 0 && (f.jsonFile != "" || len(thresholds) > 0 || len(logs) > 0):
		return usageError{errors.New("--json, --threshold and HdrHistogram logs are for load results")}
	case f.hdrOut != "" && len(logs) == 0:
		return usageError{errors.New("-o/--hdr-log-out: no HdrHistogram logs to merge (--hdr-log-merge)")}
	case len(thresholds) > 0 && len(loads) == 0:
		return usageError{errors.New("--threshold: no load results to judge")}
	case f.jsonFile != "" && len(loads) == 0:
		return usageError{errors.New("--json: no load results to merge")}
	}

	for i, r := range confs {
		if i > 0 {
			fmt.Fprintln(out)
		}
		if err := reports.WriteText(out, r, reports.TextOptions{Color: isTerminal(out)}); err != nil {
			return err
		}
	}

	var merged *load.Result
	if len(loads) > 0 {
		for _, w := range segmentWarnings(loads) {
			fmt.Fprintln(errw, "report: warning:", w)
		}
		merged = loads[0]
		if len(loads) > 1 {
			if merged, err = load.Merge(loads); err != nil {
				return exitError{exitCannotRun, err}
			}
		}
		if err := reports.WriteLoadText(out, merged); err != nil {
			return err
		}
		if f.jsonFile != "" {
			if err := writeFileWith(f.jsonFile, func(w io.Writer) error { return reports.WriteLoadJSON(w, merged) }); err != nil {
				return exitError{exitCannotRun, err}
			}
		}
	}

	if len(logs) > 0 {
		if err := reportHdrLogs(out, logs, merged, f.hdrOut); err != nil {
			return err
		}
	}

	if merged != nil {
		if breaches := load.Check(merged, thresholds); len(breaches) > 0 {
			printBreaches(out, breaches)
			return exitError{exitFailure, fmt.Errorf("%d of %d thresholds breached", len(breaches), len(thresholds))}
		}
		if len(thresholds) > 0 {
			fmt.Fprintf(out, "\nall %d thresholds met\n", len(thresholds))
		}
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
