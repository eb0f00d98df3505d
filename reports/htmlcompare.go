package reports

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/verdict"
	"github.com/mailcheck/mailcheck/load/summary"
)

// Comparing runs: each run of a kind beside the reference run of that
// kind (the baseline, or else the first run), the differences computed
// and regressions marked.

type comparisonView struct {
	Anchor, Heading, Caption string
	Columns                  []string
	Rows                     []comparisonRow
	Notes                    []string
	Empty                    string
	Regressions              []string
}

type comparisonRow struct {
	Name  string
	Cells []comparisonCell
}

type comparisonCell struct {
	Value, Delta string
	Class        string // "worse", "better", "changed" or ""
}

// defaultTolerance is the relative difference beyond which a load metric
// counts as a regression or an improvement: runs on shared machines vary
// by a few per cent.
const defaultTolerance = 0.10

// latencyFloor (ms) is the smallest latency difference that counts: below
// it, scheduling noise on the generator's machine dominates (a loopback
// greeting takes 0.05 ms, and its p99 moves by more than that from run to
// run).
const latencyFloor = 0.1

// sameTarget reports whether two targets are the same server: equal, or
// both on loopback (the embedded reference server listens on a new port
// each run).
func sameTarget(a, b string) bool {
	if a == b {
		return true
	}
	host := func(t string) string {
		if u, err := url.Parse(t); err == nil {
			return u.Hostname()
		}
		return ""
	}
	ha, hb := net.ParseIP(host(a)), net.ParseIP(host(b))
	return ha != nil && hb != nil && ha.IsLoopback() && hb.IsLoopback()
}

// metric is one compared figure of a load result.
type metric struct {
	name          string
	higherIsGood  bool
	value         func(*summary.Result) (float64, bool)
	format        func(float64) string
	absoluteFloor float64 // differences below this never count
}

func loadMetrics() []metric {
	rate := func(f func(*summary.Result) float64) func(*summary.Result) (float64, bool) {
		return func(r *summary.Result) (float64, bool) { return f(r), true }
	}
	share := func(f func(*summary.Result) int64) func(*summary.Result) (float64, bool) {
		return func(r *summary.Result) (float64, bool) {
			if r.Sent == 0 {
				return 0, false
			}
			return float64(f(r)) / float64(r.Sent), true
		}
	}
	percent := func(v float64) string { return strconv.FormatFloat(v*100, 'f', 2, 64) + "%" }
	lat := func(p summary.Phase, key string) func(*summary.Result) (float64, bool) {
		return func(r *summary.Result) (float64, bool) {
			l := r.Phases[p]
			if p == "" {
				l = r.TransactionUncorrected
			}
			if l == nil {
				return 0, false
			}
			switch key {
			case "mean":
				return l.Mean, true
			case "max":
				return l.Max, true
			}
			v, ok := l.P[key]
			return v, ok
		}
	}
	msf := func(v float64) string { return ms(v) + " ms" }
	ms := []metric{
		{name: "msgs/s", higherIsGood: true, value: rate(func(r *summary.Result) float64 { return r.MsgsPS }), format: func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }},
		{name: "MB/s", higherIsGood: true, value: rate(func(r *summary.Result) float64 { return r.MBPS }), format: func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }},
		{name: "failed / sent", value: share(func(r *summary.Result) int64 { return r.Failed }), format: percent, absoluteFloor: 0.001},
		{name: "late / sent (open loop)", value: share(func(r *summary.Result) int64 { return r.Late }), format: percent, absoluteFloor: 0.001},
	}
	for _, key := range []string{"mean", "50", "90", "99", "99.9", "99.99", "max"} {
		name := key
		if key != "mean" && key != "max" {
			name = "p" + key
		}
		ms = append(ms, metric{name: "transaction " + name, value: lat(summary.PhaseTransaction, key), format: msf, absoluteFloor: latencyFloor})
	}
	ms = append(ms, metric{name: "transaction p99, uncorrected", value: lat("", "99"), format: msf, absoluteFloor: latencyFloor})
	for _, p := range summary.Phases {
		if p == summary.PhaseTransaction {
			continue
		}
		for _, key := range []string{"50", "99"} {
			ms = append(ms, metric{name: phaseName(p) + " p" + key, value: lat(p, key), format: msf, absoluteFloor: latencyFloor})
		}
	}
	return ms
}

// compareLoads compares runs[1:] with runs[0].
func compareLoads(runs []*summary.Result, labels []string, tolerance float64) comparisonView {
	v := comparisonView{Anchor: "compare-load", Heading: "Load: " + strings.Join(labels, " vs "), Columns: labels,
		Caption: fmt.Sprintf("Each run beside %s; a difference of more than %s%% marks a regression (red) or an improvement (green).",
			labels[0], strconv.FormatFloat(tolerance*100, 'f', -1, 64))}
	ref := runs[0]
	for _, m := range loadMetrics() {
		base, ok := m.value(ref)
		row := comparisonRow{Name: m.name}
		any := ok
		if ok {
			row.Cells = append(row.Cells, comparisonCell{Value: m.format(base)})
		} else {
			row.Cells = append(row.Cells, comparisonCell{Value: "–"})
		}
		for i, r := range runs[1:] {
			val, have := m.value(r)
			if !have {
				row.Cells = append(row.Cells, comparisonCell{Value: "–"})
				continue
			}
			any = true
			cell := comparisonCell{Value: m.format(val)}
			if ok {
				cell.Delta, cell.Class = judge(base, val, m.higherIsGood, tolerance, m.absoluteFloor)
				if cell.Class == "worse" {
					v.Regressions = append(v.Regressions, fmt.Sprintf("load %s: %s %s, %s %s (%s)", m.name, labels[0], m.format(base), labels[i+1], m.format(val), cell.Delta))
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		if any {
			v.Rows = append(v.Rows, row)
		}
	}
	for i, r := range runs[1:] {
		if d := settingsDiff(ref.Settings, r.Settings); d != "" {
			v.Notes = append(v.Notes, fmt.Sprintf("%s and %s differ in their settings (%s): compare with care.", labels[0], labels[i+1], d))
		}
	}
	return v
}

// judge returns the relative difference of val from base and whether it
// is worse, better or about the same.
func judge(base, val float64, higherIsGood bool, tolerance, floor float64) (string, string) {
	diff := val - base
	delta := "±0"
	switch {
	case base != 0:
		delta = fmt.Sprintf("%+.1f%%", diff/math.Abs(base)*100)
	case diff != 0:
		delta = "new"
	}
	if math.Abs(diff) <= floor || base != 0 && math.Abs(diff)/math.Abs(base) <= tolerance {
		return delta, ""
	}
	if diff > 0 == higherIsGood {
		return delta, "better"
	}
	return delta, "worse"
}

func settingsDiff(a, b summary.Settings) string {
	var d []string
	add := func(name string, x, y any) {
		if x != y {
			d = append(d, fmt.Sprintf("%s %v vs %v", name, x, y))
		}
	}
	if !sameTarget(a.Target, b.Target) {
		add("target", a.Target, b.Target)
	}
	add("model", a.Model, b.Model)
	add("sessions", a.Sessions, b.Sessions)
	add("rate", a.Rate, b.Rate)
	add("pipelining", a.Pipelining, b.Pipelining)
	add("size", fmt.Sprint(a.SizeMin, "-", a.SizeMax), fmt.Sprint(b.SizeMin, "-", b.SizeMax))
	add("recipients", a.Rcpts, b.Rcpts)
	add("messages per connection", a.MessagesPerSession, b.MessagesPerSession)
	return strings.Join(d, ", ")
}

// statusRank orders verdicts from good to bad for the comparison.
func statusRank(s verdict.Status) int {
	switch s {
	case verdict.Pass:
		return 0
	case verdict.Skip:
		return 1
	case verdict.Warn:
		return 2
	case verdict.Waived:
		return 3 // a failure accepted for now
	}
	return 4 // fail, error
}

// compareConformance compares the verdicts of reports[1:] with
// reports[0], check by check (by protocol and ID, since the targets'
// addresses differ between runs).
func compareConformance(reports []*verdict.Report, labels []string) comparisonView {
	v := comparisonView{Anchor: "compare-conformance", Heading: "Conformance: " + strings.Join(labels, " vs "), Columns: labels,
		Caption: "The verdict counts of each run, then every check whose verdict differs from " + labels[0] + "'s: worse in red, better in green."}
	type key struct{ protocol, id string }
	verdicts := make([]map[key]verdict.Status, len(reports))
	var order []key
	seen := map[key]bool{}
	for i, r := range reports {
		verdicts[i] = map[key]verdict.Status{}
		for _, c := range r.Checks {
			k := key{c.Protocol, c.ID}
			verdicts[i][k] = c.Status
			if !seen[k] {
				seen[k] = true
				order = append(order, k)
			}
		}
	}
	for _, s := range statusOrder {
		row := comparisonRow{Name: statusLabel(s)}
		for _, r := range reports {
			n := 0
			for _, c := range r.Checks {
				if c.Status == s {
					n++
				}
			}
			row.Cells = append(row.Cells, comparisonCell{Value: strconv.Itoa(n)})
		}
		v.Rows = append(v.Rows, row)
	}
	changed := 0
	for _, k := range order {
		base, inBase := verdicts[0][k]
		differs := false
		row := comparisonRow{Name: k.id}
		row.Cells = append(row.Cells, cellFor(base, inBase))
		for i := 1; i < len(reports); i++ {
			s, in := verdicts[i][k]
			cell := cellFor(s, in)
			if s != base || in != inBase {
				differs = true
				switch {
				case !in || !inBase:
					cell.Class = "changed"
				case statusRank(s) > statusRank(base):
					cell.Class = "worse"
					v.Regressions = append(v.Regressions, fmt.Sprintf("conformance %s: %s %s, %s %s", k.id, labels[0], base, labels[i], s))
				case statusRank(s) < statusRank(base):
					cell.Class = "better"
				default:
					cell.Class = "changed"
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		if differs {
			changed++
			v.Rows = append(v.Rows, row)
		}
	}
	if changed == 0 {
		v.Empty = "No check's verdict differs."
	}
	return v
}

func cellFor(s verdict.Status, in bool) comparisonCell {
	if !in {
		return comparisonCell{Value: "not run"}
	}
	return comparisonCell{Value: statusLabel(s)}
}
