package reports

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mailcheck/mailcheck/conformance/verdict"
	"github.com/mailcheck/mailcheck/target"
)

// The conformance section of the HTML report: target, time, tool; counts
// by protocol and verdict; every check, failures first, each with its
// message and wire transcript in a collapsed <details>.

type conformanceView struct {
	Anchor, Label, Heading  string
	Tool, Started, Duration string
	Targets                 []string
	Verdict, VerdictClass   string
	Statuses                []verdict.Status // the columns of Counts
	Counts                  []protocolCounts
	Checks                  []checkView
	// Waivers of the run, and a note on the stale ones.
	Waivers   []waiverView
	StaleNote string
}

type waiverView struct {
	verdict.WaiverRecord
	State, Class string
}

type protocolCounts struct {
	Protocol string
	Counts   []int // by Statuses
	Total    int
}

type checkView struct {
	verdict.Result
	Duration string
	Lines    []transcriptLine
	// WaiverText says what waiver matched the result.
	WaiverText string
	// Omitted lines of a long transcript (the JSON result has them all).
	Omitted, OmittedAt int
}

type transcriptLine struct {
	Class, Who, Text, At string
}

// Transcripts longer than this keep their head and tail: a check that
// sends 10,000 RCPTs still makes a report that opens.
const (
	transcriptHead = 800
	transcriptTail = 200
)

func newConformanceView(r *verdict.Report, label, anchor string) conformanceView {
	v := conformanceView{
		Anchor: anchor, Label: label, Tool: r.Tool,
		Started:  r.Started.UTC().Format("2006-01-02 15:04:05 UTC"),
		Duration: strconv.FormatFloat(r.DurationMS/1000, 'f', 2, 64) + " s",
		Statuses: shownStatuses(r),
	}
	var protos []string
	for _, t := range r.Targets {
		v.Targets = append(v.Targets, target.RedactURL(t.Raw))
		if !slices.Contains(protos, t.Protocol) {
			protos = append(protos, t.Protocol)
		}
	}
	switch len(v.Targets) {
	case 0:
		v.Heading = "Conformance"
	case 1:
		v.Heading = "Conformance: " + v.Targets[0]
	default:
		v.Heading = fmt.Sprintf("Conformance: %d targets (%s)", len(v.Targets), strings.Join(protos, ", "))
	}
	v.Verdict, v.VerdictClass = runVerdict(r)
	v.Waivers, v.StaleNote = waiverViews(r)
	byProto := map[string]*protocolCounts{}
	protos = protos[:0]
	total := &protocolCounts{Protocol: "all", Counts: make([]int, len(v.Statuses))}
	for _, c := range r.Checks {
		pc := byProto[c.Protocol]
		if pc == nil {
			pc = &protocolCounts{Protocol: c.Protocol, Counts: make([]int, len(v.Statuses))}
			byProto[c.Protocol] = pc
			protos = append(protos, c.Protocol)
		}
		if i := slices.Index(v.Statuses, c.Status); i >= 0 {
			pc.Counts[i]++
			total.Counts[i]++
		}
		pc.Total++
		total.Total++
	}
	for _, p := range protos {
		v.Counts = append(v.Counts, *byProto[p])
	}
	if len(protos) > 1 {
		v.Counts = append(v.Counts, *total)
	}
	for _, c := range byAttention(r.Checks) {
		c.Target = target.RedactURL(c.Target)
		c.Message = visible(c.Message)
		cv := checkView{Result: c, Duration: strconv.FormatFloat(c.DurationMS, 'f', 1, 64) + " ms", WaiverText: visible(waiverLine(c))}
		lines := c.Transcript
		if len(lines) > transcriptHead+transcriptTail {
			cv.Omitted, cv.OmittedAt = len(lines)-transcriptHead-transcriptTail, transcriptHead
			lines = append(slices.Clip(lines[:transcriptHead]), lines[len(lines)-transcriptTail:]...)
		}
		cv.Lines = make([]transcriptLine, len(lines))
		for i, l := range lines {
			cv.Lines[i] = transcriptLine{Text: visible(l.Text), At: strconv.FormatFloat(l.AtMS, 'f', 1, 64)}
			switch l.Dir {
			case verdict.DirClient:
				cv.Lines[i].Class, cv.Lines[i].Who = "c", "C: "
			case verdict.DirServer:
				cv.Lines[i].Class, cv.Lines[i].Who = "s", "S: "
			default:
				cv.Lines[i].Class, cv.Lines[i].Who = "n", "# "
			}
		}
		v.Checks = append(v.Checks, cv)
	}
	return v
}

// shownStatuses are the columns of the counts: every verdict, and
// "waived" when the run has waivers.
func shownStatuses(r *verdict.Report) []verdict.Status {
	if len(r.Waivers) > 0 || slices.ContainsFunc(r.Checks, func(c verdict.Result) bool { return c.Status == verdict.Waived }) {
		return statusOrder
	}
	return slices.DeleteFunc(slices.Clone(statusOrder), func(s verdict.Status) bool { return s == verdict.Waived })
}

// runVerdict is the run's verdict at the MUST level, and its class.
func runVerdict(r *verdict.Report) (string, string) {
	waived := ""
	if n := r.Summary[verdict.Waived]; n > 0 {
		waived = fmt.Sprintf(" (%d waived)", n)
	}
	switch {
	case !r.Failed(verdict.FailOnMust):
		return "PASS: every MUST is met" + waived, "pass"
	case slices.ContainsFunc(r.Checks, func(c verdict.Result) bool { return c.Status == verdict.Fail || c.Status == verdict.Error }):
		return "FAIL: a MUST is not met, or a check could not decide" + waived, "fail"
	}
	return "FAIL: a waiver is stale (--strict-waivers)" + waived, "fail"
}

// waiverViews lists the run's waivers with their outcome.
func waiverViews(r *verdict.Report) ([]waiverView, string) {
	var views []waiverView
	for _, w := range r.Waivers {
		w.Reason = visible(w.Reason)
		class := "waived"
		switch {
		case w.Stale && r.StrictWaivers:
			class = "fail"
		case w.Stale || w.Expired:
			class = "warn"
		}
		views = append(views, waiverView{WaiverRecord: w, State: waiverState(w), Class: class})
	}
	note := ""
	if n := len(r.StaleWaivers()); n > 0 {
		note = fmt.Sprintf("%d stale: they match no fail, warn or error of this run and can go.", n)
		if r.StrictWaivers {
			note += " Under --strict-waivers they fail the run."
		}
	}
	return views, note
}

// statusLabel is a verdict as the table shows it.
func statusLabel(s verdict.Status) string { return strings.ToUpper(string(s)) }

// visible makes text safe to show as evidence: control characters (but
// tab), DEL and octets that are not UTF-8 become Go-style escapes (\x1b,
// \xff), and format characters that reorder or hide text (U+202E, U+200B,
// U+2028) become \u escapes, as the engine writes them in transcripts, so a hand-made or
// hostile result cannot hide text or move the cursor of whoever reads
// it. html/template then escapes the markup characters.
func visible(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 && r != '\t' || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0, // C1 controls
			unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp): // bidi overrides, zero-width, line separators
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
