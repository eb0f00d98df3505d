package reports

import (
	"fmt"
	"html/template"
	"math"
	"strconv"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mailcheck/mailcheck/load/summary"
)

// The load section of the HTML report: settings, counts and rates,
// throughput over time, the latency percentile spectra (transaction and
// phases), a percentile table, coordinated-omission-corrected and
// uncorrected figures, and errors.

type loadView struct {
	Anchor, Label, Heading string
	Tool, Started, Target  string
	Segments               string
	Settings               []keyValue
	Counts                 []keyValue
	Throughput             template.HTML
	Transaction            template.HTML
	PhaseChart             template.HTML
	PercentileHeads        []string
	Percentiles            []latencyRowView
	Omission               []omissionRow
	Errors                 []summary.ErrorClass
	Baseline               string // the label of the baseline drawn in the transaction chart
}

type keyValue struct{ Key, Value string }

type latencyRowView struct {
	Name  string
	Count int64
	Cells []string
}

type omissionRow struct{ Name, Corrected, Uncorrected, Ratio string }

// Series colours (Tableau 10): distinguishable, and legible when printed.
const (
	colorCorrected   = "#1f77b4"
	colorUncorrected = "#ff7f0e"
	colorBaseline    = "#7f7f7f"
	colorAccepted    = "#1f77b4"
	colorFailed      = "#d62728"
)

var phaseColors = map[summary.Phase]string{
	summary.PhaseConnect:     "#8c564b",
	summary.PhaseGreeting:    "#e377c2",
	summary.PhaseEHLO:        "#bcbd22",
	summary.PhaseSTARTTLS:    "#17becf",
	summary.PhaseAuth:        "#7f7f7f",
	summary.PhaseMail:        "#2ca02c",
	summary.PhaseRcpt:        "#9467bd",
	summary.PhaseData:        "#ff7f0e",
	summary.PhaseEndOfData:   "#d62728",
	summary.PhaseTransaction: "#1f77b4",
}

// maxSeriesPoints bounds the points of a throughput line: a run of days
// still draws a small chart.
const maxSeriesPoints = 600

func newLoadView(r *summary.Result, label, anchor string, baseline *summary.Result, baselineLabel string) loadView {
	s := r.Settings
	v := loadView{
		Anchor: anchor, Label: label, Heading: "Load: " + s.Target,
		Tool: r.Tool, Started: r.Started.UTC().Format("2006-01-02 15:04:05 UTC"), Target: s.Target,
	}
	switch {
	case s.Segment == 0 && s.Segments > 1:
		v.Segments = fmt.Sprintf("merged from %d segments", s.Segments)
	case s.Segments > 1:
		v.Segments = fmt.Sprintf("segment %d of %d", s.Segment, s.Segments)
	}
	model := "closed loop (each session sends when its previous message is accepted)"
	if s.Model == "open" {
		model = "open loop at " + strconv.FormatFloat(s.Rate, 'f', -1, 64) + " msgs/s (latency from when each message was due)"
	}
	size := fmt.Sprintf("%d octets", s.SizeMin)
	if s.SizeMax > s.SizeMin {
		size = fmt.Sprintf("%d–%d octets", s.SizeMin, s.SizeMax)
	}
	v.Settings = []keyValue{{"target", s.Target}, {"model", model}, {"sessions", strconv.Itoa(s.Sessions)}}
	if s.Messages > 0 {
		v.Settings = append(v.Settings, keyValue{"messages", strconv.FormatInt(s.Messages, 10)})
	}
	if s.DurationS > 0 {
		v.Settings = append(v.Settings, keyValue{"duration", strconv.FormatFloat(s.DurationS, 'f', -1, 64) + " s"})
	}
	if s.MessagesPerSession > 0 {
		v.Settings = append(v.Settings, keyValue{"messages per connection", strconv.Itoa(s.MessagesPerSession)})
	}
	if s.RampS > 0 {
		v.Settings = append(v.Settings, keyValue{"ramp", strconv.FormatFloat(s.RampS, 'f', -1, 64) + " s"})
	}
	v.Settings = append(v.Settings, keyValue{"pipelining", s.Pipelining}, keyValue{"message size", size},
		keyValue{"recipients per message", strconv.Itoa(s.Rcpts)})

	v.Counts = []keyValue{
		{"accepted", strconv.FormatInt(r.Accepted, 10)},
		{"failed", strconv.FormatInt(r.Failed, 10)},
		{"sent", strconv.FormatInt(r.Sent, 10)},
	}
	if s.Model == "open" || r.Late > 0 {
		v.Counts = append(v.Counts, keyValue{"late (could not start on time)", strconv.FormatInt(r.Late, 10)})
	}
	v.Counts = append(v.Counts,
		keyValue{"msgs/s", strconv.FormatFloat(r.MsgsPS, 'f', 1, 64)},
		keyValue{"MB/s", strconv.FormatFloat(r.MBPS, 'f', 2, 64)},
		keyValue{"elapsed", strconv.FormatFloat(r.Elapsed, 'f', 2, 64) + " s"},
	)

	v.Throughput = throughputChart(r)
	v.Transaction = transactionChart(r, baseline, baselineLabel)
	v.PhaseChart = phaseChart(r)
	if baseline != nil {
		v.Baseline = baselineLabel
	}

	v.PercentileHeads = []string{"count", "min", "mean"}
	for _, p := range loadPercentiles {
		v.PercentileHeads = append(v.PercentileHeads, "p"+p)
	}
	v.PercentileHeads = append(v.PercentileHeads, "max")
	row := func(name string, l *summary.Latency) {
		cells := []string{ms(l.Min), ms(l.Mean)}
		for _, p := range loadPercentiles {
			cells = append(cells, ms(l.P[p]))
		}
		v.Percentiles = append(v.Percentiles, latencyRowView{name, l.Count, append(cells, ms(l.Max))})
	}
	for _, p := range summary.Phases {
		if l := r.Phases[p]; l != nil {
			name := phaseName(p)
			if p == summary.PhaseTransaction && r.TransactionUncorrected != nil && s.Model == "open" {
				name += " (corrected)"
			}
			row(name, l)
		}
	}
	if r.TransactionUncorrected != nil && s.Model == "open" {
		row("transaction (uncorrected)", r.TransactionUncorrected)
	}

	if tx, un := r.Phases[summary.PhaseTransaction], r.TransactionUncorrected; s.Model == "open" && tx != nil && un != nil {
		add := func(name string, c, u float64) {
			ratio := "–"
			if u > 0 {
				ratio = strconv.FormatFloat(c/u, 'f', 2, 64) + "×"
			}
			v.Omission = append(v.Omission, omissionRow{name, ms(c), ms(u), ratio})
		}
		add("mean", tx.Mean, un.Mean)
		for _, p := range loadPercentiles {
			add("p"+p, tx.P[p], un.P[p])
		}
		add("max", tx.Max, un.Max)
	}
	for _, e := range r.Errors {
		e.Class, e.Example = visible(e.Class), visible(e.Example)
		v.Errors = append(v.Errors, e)
	}
	return v
}

// phaseName is a phase as people read it.
func phaseName(p summary.Phase) string {
	switch p {
	case summary.PhaseEHLO:
		return "EHLO"
	case summary.PhaseSTARTTLS:
		return "STARTTLS"
	case summary.PhaseAuth:
		return "AUTH"
	case summary.PhaseMail:
		return "MAIL"
	case summary.PhaseRcpt:
		return "RCPT"
	case summary.PhaseData:
		return "DATA (354)"
	case summary.PhaseEndOfData:
		return "end of data (250)"
	}
	return string(p)
}

// throughputChart draws accepted (and failed) messages per second over
// the run.
func throughputChart(r *summary.Result) template.HTML {
	if len(r.Series) == 0 {
		return ""
	}
	var acc, failed []point
	var top, last float64
	anyFailed := false
	for _, s := range r.Series {
		t := float64(s.T)
		acc = append(acc, point{t, float64(s.Accepted)})
		failed = append(failed, point{t, float64(s.Failed)})
		top = math.Max(top, math.Max(float64(s.Accepted), float64(s.Failed)))
		last = math.Max(last, t)
		anyFailed = anyFailed || s.Failed > 0
	}
	acc, failed = downsample(acc, maxSeriesPoints), downsample(failed, maxSeriesPoints)
	yTicks, yTop := linearTicks(top, 5, shortNumber)
	xTicks, xTop := linearTicks(math.Max(last, 1), 8, func(v float64) string { return shortNumber(v) })
	series := []chartSeries{{Name: "accepted msgs/s", Color: colorAccepted, Points: acc}}
	if anyFailed {
		series = append(series, chartSeries{Name: "failed msgs/s", Color: colorFailed, Points: failed})
	}
	return lineChart("Throughput over time: messages per second", "throughput",
		chartAxis{Label: "time since the start (s)", Min: 0, Max: xTop, Ticks: xTicks},
		chartAxis{Label: "messages per second", Min: 0, Max: yTop, Ticks: yTicks}, series)
}

// The percentile axis of an HdrHistogram plot: x = log10(1/(1-q)), so
// 90%, 99%, 99.9% … are equally spaced and the tail gets the room.
var percentileTicks = []tick{{0, "0%"}, {1, "90%"}, {2, "99%"}, {3, "99.9%"}, {4, "99.99%"}, {5, "99.999%"}, {6, "99.9999%"}}

// spectrumStep is the x step between plotted percentiles.
const spectrumStep = 0.025

// spectrum returns the latency (ms) at percentiles along the log axis up
// to xMax, from the phase's histogram; without one (an older or
// hand-made result), from its summary percentiles.
func spectrum(l *summary.Latency, xMax float64) []point {
	if h, err := hdrhistogram.Decode([]byte(l.Histogram)); err == nil && h.TotalCount() > 0 {
		var ps []point
		for x := 0.0; x < xMax+spectrumStep/2; x += spectrumStep {
			q := 100 * (1 - math.Pow(10, -x))
			ps = append(ps, point{x, float64(h.ValueAtPercentile(q)) / 1000})
		}
		return append(ps, point{xMax, float64(h.Max()) / 1000})
	}
	ps := []point{{0, l.Min}}
	for _, p := range loadPercentiles {
		q, err := strconv.ParseFloat(p, 64)
		if v, ok := l.P[p]; ok && err == nil {
			if x := -math.Log10(1 - q/100); x <= xMax {
				ps = append(ps, point{x, v})
			}
		}
	}
	return append(ps, point{xMax, l.Max})
}

// spectrumWidth is how far along the percentile axis count samples reach:
// beyond 1/count the tail is the maximum.
func spectrumWidth(count int64) float64 {
	return math.Min(6, math.Max(2, math.Ceil(math.Log10(float64(max(count, 1))))))
}

func transactionChart(r *summary.Result, baseline *summary.Result, baselineLabel string) template.HTML {
	tx := r.Phases[summary.PhaseTransaction]
	if tx == nil {
		return ""
	}
	xMax := spectrumWidth(tx.Count)
	name := "transaction"
	if r.Settings.Model == "open" && r.TransactionUncorrected != nil {
		name = "transaction, corrected (from when due)"
	}
	series := []chartSeries{{Name: name, Color: colorCorrected, Points: spectrum(tx, xMax)}}
	if un := r.TransactionUncorrected; un != nil && r.Settings.Model == "open" {
		series = append(series, chartSeries{Name: "transaction, uncorrected (from when sent)", Color: colorUncorrected, Points: spectrum(un, xMax)})
	}
	if baseline != nil && baseline.Phases[summary.PhaseTransaction] != nil {
		series = append(series, chartSeries{Name: "baseline: " + baselineLabel, Color: colorBaseline, Dashed: true,
			Points: spectrum(baseline.Phases[summary.PhaseTransaction], xMax)})
	}
	top := 0.0
	for _, s := range series {
		for _, p := range s.Points {
			top = math.Max(top, p.Y)
		}
	}
	yTicks, yTop := linearTicks(top, 5, shortNumber)
	return lineChart("Transaction latency by percentile (MAIL to the final 250)", "spectrum transaction",
		chartAxis{Label: "percentile (logarithmic: each step is ten times rarer)", Min: 0, Max: xMax, Ticks: percentileTicks[:int(xMax)+1]},
		chartAxis{Label: "latency (ms)", Min: 0, Max: yTop, Ticks: yTicks}, series)
}

// phaseChart draws every measured phase on a logarithmic latency axis:
// connect takes microseconds where end of data takes milliseconds.
func phaseChart(r *summary.Result) template.HTML {
	var series []chartSeries
	var count int64
	lo, hi := math.Inf(1), 0.0
	for _, p := range summary.Phases {
		if l := r.Phases[p]; l != nil {
			count = max(count, l.Count)
		}
	}
	xMax := spectrumWidth(count)
	for _, p := range summary.Phases {
		l := r.Phases[p]
		if l == nil {
			continue
		}
		pts := spectrum(l, xMax)
		for _, pt := range pts {
			if pt.Y > 0 {
				lo, hi = math.Min(lo, pt.Y), math.Max(hi, pt.Y)
			}
		}
		series = append(series, chartSeries{Name: phaseName(p), Color: phaseColors[p], Points: pts})
	}
	if len(series) == 0 || hi == 0 {
		return ""
	}
	yTicks, yMin, yMax := decadeTicks(lo, hi, func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) })
	return lineChart("Latency of each phase by percentile", "spectrum phases",
		chartAxis{Label: "percentile (logarithmic)", Min: 0, Max: xMax, Ticks: percentileTicks[:int(xMax)+1]},
		chartAxis{Label: "latency (ms, logarithmic)", Min: yMin, Max: yMax, Log: true, Ticks: yTicks}, series)
}
