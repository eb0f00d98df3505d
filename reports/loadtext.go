package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/load/summary"
)

// WriteLoadJSON writes a load result as indented JSON: the documented model
// of summary.Result.
func WriteLoadJSON(w io.Writer, r *summary.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// loadPercentiles are the columns of the latency table, as keys of
// summary.Latency.P.
var loadPercentiles = []string{"50", "90", "99", "99.9", "99.99"}

// WriteLoadText writes a summary of a load run for people: the settings,
// the counts and rates, a table of latency percentiles per phase (in
// milliseconds), in open loop the corrected and uncorrected transaction
// latency side by side, and the errors by class with the first example.
func WriteLoadText(w io.Writer, r *summary.Result) error {
	var b strings.Builder
	s := r.Settings
	fmt.Fprintf(&b, "mailcheck load %s", s.Target)
	switch {
	case s.Segment == 0 && s.Segments > 1:
		fmt.Fprintf(&b, "  (merged: %d segments)", s.Segments)
	case s.Segments > 1:
		fmt.Fprintf(&b, "  (segment %d/%d)", s.Segment, s.Segments)
	}
	b.WriteString("\n")
	b.WriteString("  " + settingsLine(s) + "\n\n")

	fmt.Fprintf(&b, "sent %d  accepted %d  failed %d", r.Sent, r.Accepted, r.Failed)
	if s.Model == "open" || r.Late > 0 {
		fmt.Fprintf(&b, "  late %d", r.Late)
	}
	fmt.Fprintf(&b, "  in %.2f s\n", r.Elapsed)
	fmt.Fprintf(&b, "%.1f msgs/s  %.2f MB/s  (%d octets accepted)\n", r.MsgsPS, r.MBPS, r.Bytes)

	if len(r.Phases) > 0 {
		b.WriteString("\nlatency (ms)\n")
		fmt.Fprintf(&b, "  %-26s %9s", "phase", "count")
		for _, p := range loadPercentiles {
			fmt.Fprintf(&b, " %9s", "p"+p)
		}
		fmt.Fprintf(&b, " %9s\n", "max")
		for _, phase := range summary.Phases {
			l := r.Phases[phase]
			if l == nil {
				continue
			}
			name := string(phase)
			if phase == summary.PhaseTransaction && s.Model == "open" {
				name += " (corrected)"
			}
			latencyRow(&b, name, l)
		}
		if r.TransactionUncorrected != nil && s.Model == "open" {
			latencyRow(&b, "transaction (uncorrected)", r.TransactionUncorrected)
		}
	}
	if tx, un := r.Phases[summary.PhaseTransaction], r.TransactionUncorrected; s.Model == "open" && tx != nil && un != nil {
		b.WriteString("\nopen loop: transaction latency (ms), corrected (from when each message was due)\nand uncorrected (from when it was sent)\n")
		fmt.Fprintf(&b, "  %-8s %12s %12s\n", "", "corrected", "uncorrected")
		row := func(name string, c, u float64) { fmt.Fprintf(&b, "  %-8s %12s %12s\n", name, ms(c), ms(u)) }
		row("mean", tx.Mean, un.Mean)
		for _, p := range loadPercentiles {
			row("p"+p, tx.P[p], un.P[p])
		}
		row("max", tx.Max, un.Max)
	}

	if len(r.Errors) > 0 {
		b.WriteString("\nerrors\n")
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "  %8d  %s\n", e.Count, e.Class)
			if e.Example != "" {
				fmt.Fprintf(&b, "            first: %s\n", oneLine(e.Example))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func settingsLine(s summary.Settings) string {
	var parts []string
	if s.Model == "open" {
		parts = append(parts, fmt.Sprintf("open loop at %s msgs/s", strconv.FormatFloat(s.Rate, 'f', -1, 64)))
	} else {
		parts = append(parts, "closed loop")
	}
	parts = append(parts, plural(s.Sessions, "session"))
	if s.Messages > 0 {
		parts = append(parts, fmt.Sprintf("%d messages", s.Messages))
	}
	if s.DurationS > 0 {
		parts = append(parts, fmt.Sprintf("for %gs", s.DurationS))
	}
	if s.MessagesPerSession > 0 {
		parts = append(parts, fmt.Sprintf("%d per connection", s.MessagesPerSession))
	}
	if s.RampS > 0 {
		parts = append(parts, fmt.Sprintf("ramp %gs", s.RampS))
	}
	size := fmt.Sprintf("%d octets", s.SizeMin)
	if s.SizeMax > s.SizeMin {
		size = fmt.Sprintf("%d-%d octets", s.SizeMin, s.SizeMax)
	}
	parts = append(parts, "pipelining "+s.Pipelining, size, plural(s.Rcpts, "recipient")+" per message")
	return strings.Join(parts, ", ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func latencyRow(b *strings.Builder, name string, l *summary.Latency) {
	fmt.Fprintf(b, "  %-26s %9d", name, l.Count)
	for _, p := range loadPercentiles {
		fmt.Fprintf(b, " %9s", ms(l.P[p]))
	}
	fmt.Fprintf(b, " %9s\n", ms(l.Max))
}

// ms formats milliseconds with three significant decimals at most.
func ms(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 3, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 1000:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\r", "")
	s = strings.ReplaceAll(s, "\n", " / ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}
