package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

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
		Use:     "report RESULT.json [RESULT.json...]",
		Short:   "Turn saved results into an HTML report, JSON and JUnit; compare runs; merge load segments",
		Long:    helpText("report"),
		Example: helpText("report.example"),
		RunE:    func(cmd *cobra.Command, args []string) error { return runReport(cmd, args, f) },
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

// readSets reads the results and logs to report, and the baselines.
func readSets(args []string, f reportFlags) (in, base *reports.Set, err error) {
	if in, err = reports.ReadSet(args, true); err == nil {
		err = in.AddLogs(f.hdrLogs)
	}
	if err != nil {
		return nil, nil, usageError{err}
	}
	if base, err = reports.ReadSet(f.baselines, false); err == nil {
		err = base.CheckBaseline()
	}
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--baseline: %v", err)}
	}
	return in, base, nil
}

// checkReportOutputs refuses outputs the inputs cannot fill.
func checkReportOutputs(f reportFlags, in *reports.Set, thresholds int) error {
	results := len(in.Runs) + len(in.Conformance)
	switch {
	case results == 0 && len(in.Logs) == 0:
		return usageError{errors.New("no results to report (only baselines)")}
	case f.hdrOut != "" && len(in.Logs) == 0:
		return usageError{errors.New("--hdr-log-out: no HdrHistogram logs to merge (--hdr-log-merge)")}
	case thresholds > 0 && len(in.Runs) == 0:
		return usageError{errors.New("--threshold: no load results to judge")}
	case f.jsonFile != "" && len(in.Runs) > 0 && len(in.Conformance) > 0:
		return usageError{errors.New("--json: load and conformance results do not merge into one JSON result; write them separately")}
	case f.jsonFile != "" && len(in.Runs) > 1:
		return usageError{fmt.Errorf("--json: the load results are %d runs, not the segments of one; write them separately", len(in.Runs))}
	case f.jsonFile != "" && results == 0:
		return usageError{errors.New("--json: no JSON results to merge (HdrHistogram logs merge with --hdr-log-out)")}
	case f.htmlFile != "" && results == 0:
		return usageError{errors.New("-o: no JSON results for an HTML report")}
	}
	return nil
}

func runReport(cmd *cobra.Command, args []string, f reportFlags) error {
	out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	thresholds, err := load.ParseThresholds(f.thresholds)
	if err != nil {
		return usageError{fmt.Errorf("--threshold: %v", err)}
	}
	tolerance, err := reports.ParseTolerance(f.tolerance)
	if err != nil {
		return usageError{fmt.Errorf("--tolerance %v", err)}
	}
	if len(args) == 0 && len(f.hdrLogs) == 0 {
		return usageError{errors.New("no result files (see `mailcheck report --help`)")}
	}
	if strings.HasSuffix(strings.ToLower(f.htmlFile), ".hlog") {
		return usageError{fmt.Errorf("-o %s: -o writes the HTML report; the merged HdrHistogram log goes to --hdr-log-out", f.htmlFile)}
	}
	in, base, err := readSets(args, f)
	if err != nil {
		return err
	}
	for _, w := range append(in.Warnings, base.Warnings...) {
		fmt.Fprintln(errw, "report: warning:", w)
	}
	if err := checkReportOutputs(f, in, len(thresholds)); err != nil {
		return err
	}
	merged, err := in.MergedConformance()
	if err != nil {
		return exitError{exitCannotRun, err}
	}
	if err := in.WriteText(out, reports.TextOptions{Color: isTerminal(out)}); err != nil {
		return err
	}
	if err := writeHdrLogs(out, in, f.hdrOut); err != nil {
		return err
	}
	hopts := reports.HTMLOptions{Title: f.title, Tool: versionString(), Baselines: base.HTMLRuns(), Tolerance: tolerance}
	regressions, err := in.Regressions(hopts)
	if err != nil {
		return exitError{exitCannotRun, err}
	}
	if len(in.Runs)+len(in.Conformance) > 0 && in.Compared(base) {
		reports.WriteRegressions(out, regressions)
	}
	judgements := in.Judge(thresholds)
	breached := reports.WriteJudgements(out, judgements)
	if err := writeOutputs([]output{
		{f.htmlFile, func(w io.Writer) error { return reports.WriteHTML(w, in.HTMLRuns(), hopts) }},
		{f.jsonFile, in.WriteMergedJSON},
		{f.junitFile, func(w io.Writer) error { return reports.WriteCombinedJUnit(w, merged, judgements) }},
	}); err != nil {
		return err
	}
	switch {
	case breached > 0:
		return exitError{exitFailure, fmt.Errorf("%d thresholds breached", breached)}
	case f.failOnRegression && len(regressions) > 0:
		return exitError{exitFailure, fmt.Errorf("%d regressions against the baseline", len(regressions))}
	}
	reports.WriteThresholdsMet(out, len(thresholds))
	return nil
}

// writeHdrLogs prints the merged logs' percentiles beside the merged JSON
// result's, and writes the merged log to outPath.
func writeHdrLogs(w io.Writer, in *reports.Set, outPath string) error {
	if len(in.Logs) == 0 {
		return nil
	}
	reports.WriteHdrLogText(w, in.Logs, in.OneRun())
	if outPath == "" {
		return nil
	}
	comment := fmt.Sprintf("mailcheck report: %d merged logs (%s)", len(in.Logs), versionString())
	if err := writeFileWith(outPath, func(f io.Writer) error {
		return load.WriteMergedHdrLog(f, reports.Intervals(in.Logs), comment)
	}); err != nil {
		return exitError{exitCannotRun, err}
	}
	fmt.Fprintf(w, "  merged log written to %s\n", outPath)
	return nil
}
