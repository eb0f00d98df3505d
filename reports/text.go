package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/verdict"
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
	ansiCyan   = "\x1b[36m"
	ansiDim    = "\x1b[2m"
	ansiReset  = "\x1b[0m"
)

// WriteText writes a summary for people: failures first, each with its RFC
// reference and the transcript lines that show it, then the counts.
func WriteText(w io.Writer, r *verdict.Report, opts TextOptions) error {
	if opts.TranscriptLines <= 0 {
		opts.TranscriptLines = 12
	}
	paint := func(color, s string) string {
		if !opts.Color {
			return s
		}
		return color + s + ansiReset
	}
	colorOf := map[verdict.Status]string{verdict.Fail: ansiRed, verdict.Error: ansiRed, verdict.Warn: ansiYellow, verdict.Pass: ansiGreen, verdict.Skip: ansiDim, verdict.Waived: ansiCyan}
	var b strings.Builder
	for _, t := range r.Targets {
		fmt.Fprintf(&b, "mailcheck conform %s\n", t.String())
	}
	b.WriteString("\n")
	for _, c := range byAttention(r.Checks) {
		attention := c.Status == verdict.Fail || c.Status == verdict.Error || c.Status == verdict.Warn
		// A waived failure is listed (without its transcript): a waiver
		// hides nothing.
		if !attention && c.Status != verdict.Waived && !opts.Verbose {
			continue
		}
		fmt.Fprintf(&b, "%s %s  %s [%s %s]\n", paint(colorOf[c.Status], strings.ToUpper(string(c.Status))), c.ID, c.Title, c.Level, c.Spec)
		if c.Message != "" {
			fmt.Fprintf(&b, "     %s\n", c.Message)
		}
		if line := waiverLine(c); line != "" {
			fmt.Fprintf(&b, "     %s\n", paint(ansiCyan, line))
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
	writeWaiversText(&b, r, paint)
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

// WriteCatalogue lists checks with their IDs, levels and RFC sections
// (conformance.Catalogue, each described by its CatalogueEntry).
func WriteCatalogue(w io.Writer, checks []verdict.CatalogueEntry) error {
	var b strings.Builder
	for _, c := range checks {
		fmt.Fprintf(&b, "%-40s %-6s %-28s %s\n", c.ID, c.Level, c.Spec, c.Title)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// waiverLine says what waiver matched a result: the one that waived it, or
// the expired one that no longer does.
func waiverLine(c verdict.Result) string {
	w := c.Waiver
	switch {
	case w == nil:
		return ""
	case w.Expired:
		return fmt.Sprintf("waiver %s expired on %s, not applied: %s", w.Source, w.Expires, w.Reason)
	case c.Status == verdict.Waived:
		return fmt.Sprintf("waived (was %s) by %s%s: %s", strings.ToUpper(string(c.WaivedStatus)), w.Source, until(w.Expires), w.Reason)
	}
	return ""
}

func until(day string) string {
	if day == "" {
		return ""
	}
	return " until " + day
}

// writeWaiversText lists the run's waivers, stale and expired ones
// marked.
func writeWaiversText(b *strings.Builder, r *verdict.Report, paint func(color, s string) string) {
	if len(r.Waivers) == 0 {
		return
	}
	fmt.Fprintf(b, "Waivers (%d):\n", len(r.Waivers))
	for _, w := range r.Waivers {
		fmt.Fprintf(b, "  %-7s %s %s", paint(waiverColor(w, r.StrictWaivers), waiverState(w)), w.Source, w.Check)
		if w.Target != "" {
			fmt.Fprintf(b, " target=%s", w.Target)
		}
		if w.Expires != "" {
			fmt.Fprintf(b, " expires=%s", w.Expires)
		}
		fmt.Fprintf(b, ": %s\n", w.Reason)
	}
	if stale := r.StaleWaivers(); len(stale) > 0 {
		fmt.Fprintf(b, "  %d stale: they match no fail, warn or error of this run and can go", len(stale))
		if r.StrictWaivers {
			b.WriteString(" (--strict-waivers: the run fails)")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// waiverState is a waiver's outcome in a word or two.
func waiverState(w verdict.WaiverRecord) string {
	switch {
	case w.Stale && w.Expired:
		return "STALE, EXPIRED"
	case w.Stale:
		return "STALE"
	case w.Expired:
		return "EXPIRED"
	}
	return fmt.Sprintf("WAIVED %d", w.Waived)
}

func waiverColor(w verdict.WaiverRecord, strict bool) string {
	switch {
	case w.Stale && strict:
		return ansiRed
	case w.Stale || w.Expired:
		return ansiYellow
	}
	return ansiCyan
}
