// Package reports renders mailcheck results for people and for CI: a text
// summary for the terminal, the JSON result model, and JUnit XML as GitLab,
// Jenkins and GitHub test reporters read it, for conformance reports; a
// text summary and the JSON result model for load results. It reads them
// back too: Decode tells a result file's kind and version from its content,
// and a Set merges the segments of distributed load runs, judges them and
// writes what `mailcheck report` writes.
//
// It depends on the result models only (conformance/verdict, load/summary
// and target), never on the suites, the runner, the generator or the
// reference server: a program that renders results does not link them.
// internal/importrules enforces it.
package reports

import (
	"encoding/json"
	"io"
	"slices"

	"github.com/mailcheck/mailcheck/conformance/verdict"
)

// WriteJSON writes the conformance report as indented JSON: the documented
// model of verdict.Report.
func WriteJSON(w io.Writer, r *verdict.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Evidence reads as sent: "<redacted 10 octets>", "RCPT TO:<bob@…>",
	// not \u003c escapes (the JSON is the same either way).
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// statusOrder puts the verdicts that need attention first.
var statusOrder = []verdict.Status{verdict.Fail, verdict.Error, verdict.Warn, verdict.Waived, verdict.Skip, verdict.Pass}

// byAttention returns the results sorted failures first, keeping catalogue
// order within a status.
func byAttention(results []verdict.Result) []verdict.Result {
	out := slices.Clone(results)
	slices.SortStableFunc(out, func(a, b verdict.Result) int {
		return slices.Index(statusOrder, a.Status) - slices.Index(statusOrder, b.Status)
	})
	return out
}
