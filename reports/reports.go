// Package reports renders mailcheck results for people and for CI: a text
// summary for the terminal, the JSON result model, and JUnit XML as GitLab,
// Jenkins and GitHub test reporters read it, for conformance reports; a
// text summary and the JSON result model for load results.
package reports

import (
	"encoding/json"
	"io"
	"slices"

	"github.com/mailcheck/mailcheck/conformance"
)

// WriteJSON writes the conformance report as indented JSON: the documented
// model of conformance.Report.
func WriteJSON(w io.Writer, r *conformance.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Evidence reads as sent: "<redacted 10 octets>", "RCPT TO:<bob@…>",
	// not \u003c escapes (the JSON is the same either way).
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// statusOrder puts the verdicts that need attention first.
var statusOrder = []conformance.Status{conformance.Fail, conformance.Error, conformance.Warn, conformance.Waived, conformance.Skip, conformance.Pass}

// byAttention returns the results sorted failures first, keeping catalogue
// order within a status.
func byAttention(results []conformance.Result) []conformance.Result {
	out := slices.Clone(results)
	slices.SortStableFunc(out, func(a, b conformance.Result) int {
		return slices.Index(statusOrder, a.Status) - slices.Index(statusOrder, b.Status)
	})
	return out
}
