package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/mailcheck/mailcheck/conformance"
)

// TextOptions configure WriteText.
type TextOptions struct {
	// Color uses ANSI colours; only for a terminal.
	Color bool
	// Verbose lists passing and skipped checks too, not just the counts.
	Verbose bool
	// TranscriptLines bounds the transcript lines shown per failure (the
	// last ones, where the failure is). Default 12.
	TranscriptLines int
}

const (
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiGreen  = "\x1b[32m"
	ansiDim    = "\x1b[2m"
	ansiReset  = "\x1b[0m"
)

// WriteText writes a summary for people: failures first, each with its RFC
// reference and the transcript lines that show it, then the counts.
func WriteText(w io.Writer, r *conformance.Report, opts TextOptions) error {
	if opts.TranscriptLines <= 0 {
		opts.TranscriptLines = 12
	}
	paint := func(color, s string) string {
		if !opts.Color {
			return s
		}
		return color + s + ansiReset
	}
	colorOf := map[conformance.Status]string{conformance.Fail: ansiRed, conformance.Error: ansiRed, conformance.Warn: ansiYellow, conformance.Pass: ansiGreen, conformance.Skip: ansiDim}
	var b strings.Builder
	for _, t := range r.Targets {
		fmt.Fprintf(&b, "mailcheck conform %s\n", t.String())
	}
	b.WriteString("\n")
	for _, c := range byAttention(r.Checks) {
		attention := c.Status == conformance.Fail || c.Status == conformance.Error || c.Status == conformance.Warn
		if !attention && !opts.Verbose {
			continue
		}
		fmt.Fprintf(&b, "%s %s  %s [%s %s]\n", paint(colorOf[c.Status], strings.ToUpper(string(c.Status))), c.ID, c.Title, c.Level, c.Spec)
		if c.Message != "" {
			fmt.Fprintf(&b, "     %s\n", c.Message)
		}
		if attention {
			lines := c.Transcript
			if len(lines) > opts.TranscriptLines {
				fmt.Fprintf(&b, "     %s\n", paint(ansiDim, fmt.Sprintf("… %d earlier transcript lines (see --json)", len(lines)-opts.TranscriptLines)))
				lines = lines[len(lines)-opts.TranscriptLines:]
			}
			for _, l := range lines {
				fmt.Fprintf(&b, "     %s %s\n", paint(ansiDim, string(l.Dir)+":"), l.Text)
			}
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "%d checks in %.0f ms: ", len(r.Checks), r.DurationMS)
	var parts []string
	for _, s := range statusOrder {
		if n := r.Summary[s]; n > 0 {
			parts = append(parts, paint(colorOf[s], fmt.Sprintf("%d %s", n, s)))
		}
	}
	b.WriteString(strings.Join(parts, ", ") + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCatalogue lists checks with their IDs, levels and RFC sections.
func WriteCatalogue(w io.Writer, checks []*conformance.Check) error {
	var b strings.Builder
	for _, c := range checks {
		fmt.Fprintf(&b, "%-40s %-6s %-28s %s\n", c.ID, c.Level, c.Spec, c.Title)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
