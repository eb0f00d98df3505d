package reports

import (
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// An SVG line chart drawn on the server side: the report needs no
// JavaScript to show it, prints, and scales to a narrow window (viewBox,
// width 100%). All text goes through html.EscapeString; colours and
// numbers come from this package.

// chartSeries is one line of a chart.
type chartSeries struct {
	Name   string
	Color  string
	Dashed bool
	Points []point
}

type point struct{ X, Y float64 }

// chartAxis maps values to one side of the plot. Log is base 10 (values
// must be > 0); Ticks carry the labels shown.
type chartAxis struct {
	Label    string
	Min, Max float64
	Log      bool
	Ticks    []tick
}

type tick struct {
	V     float64
	Label string
}

func (a chartAxis) frac(v float64) float64 {
	lo, hi := a.Min, a.Max
	if a.Log {
		v, lo, hi = math.Log10(math.Max(v, a.Min)), math.Log10(a.Min), math.Log10(a.Max)
	}
	if hi <= lo {
		return 0
	}
	return (v - lo) / (hi - lo)
}

// Chart geometry in viewBox units.
const (
	chartW      = 760
	plotLeft    = 70
	plotRight   = 34
	plotTop     = 14
	plotH       = 240
	legendRowH  = 18
	chartFont   = 12
	charWidthPx = 6.6 // an estimate of the average glyph width at chartFont
)

// lineChart draws the series on the axes. title becomes the SVG's
// accessible name; class names the chart for styles and tests.
func lineChart(title, class string, x, y chartAxis, series []chartSeries) template.HTML {
	plotW := float64(chartW - plotLeft - plotRight)
	// The legend goes under the x axis label, wrapped into rows.
	type legendItem struct {
		s      chartSeries
		x, row float64
	}
	var items []legendItem
	lx, row := float64(plotLeft), 0.0
	for _, s := range series {
		w := 28 + charWidthPx*float64(len([]rune(s.Name))) + 18
		if lx+w > chartW && lx > plotLeft {
			lx, row = plotLeft, row+1
		}
		items = append(items, legendItem{s, lx, row})
		lx += w
	}
	legendTop := float64(plotTop + plotH + 58)
	height := legendTop + (row+1)*legendRowH + 4

	var b strings.Builder
	b.Grow(4096)
	b.WriteString(`<svg class="chart ` + html.EscapeString(class) + `" viewBox="0 0 ` + itoa(chartW) + " " + num(height) +
		`" width="100%" preserveAspectRatio="xMinYMin meet" role="img" aria-label="` + html.EscapeString(title) +
		`" xmlns="http://www.w3.org/2000/svg" font-size="` + itoa(chartFont) + `">`)
	b.WriteString(`<title>` + html.EscapeString(title) + `</title>`)
	px := func(v float64) float64 { return plotLeft + x.frac(v)*plotW }
	py := func(v float64) float64 { return plotTop + (1-y.frac(v))*plotH }

	// Grid and tick labels.
	b.WriteString(`<g class="grid">`)
	for _, t := range y.Ticks {
		yy := py(t.V)
		b.WriteString(`<line x1="` + num(plotLeft) + `" x2="` + num(plotLeft+plotW) + `" y1="` + num(yy) + `" y2="` + num(yy) + `"/>`)
	}
	for _, t := range x.Ticks {
		xx := px(t.V)
		b.WriteString(`<line x1="` + num(xx) + `" x2="` + num(xx) + `" y1="` + num(plotTop) + `" y2="` + num(plotTop+plotH) + `"/>`)
	}
	b.WriteString(`</g><g class="ticks">`)
	for _, t := range y.Ticks {
		b.WriteString(`<text x="` + num(plotLeft-6) + `" y="` + num(py(t.V)+4) + `" text-anchor="end">` + html.EscapeString(t.Label) + `</text>`)
	}
	for _, t := range x.Ticks {
		b.WriteString(`<text x="` + num(px(t.V)) + `" y="` + num(plotTop+plotH+16) + `" text-anchor="middle">` + html.EscapeString(t.Label) + `</text>`)
	}
	b.WriteString(`</g>`)
	// Axes and their labels.
	b.WriteString(`<path class="axis" d="M` + num(plotLeft) + " " + num(plotTop) + "V" + num(plotTop+plotH) + "H" + num(plotLeft+plotW) + `"/>`)
	b.WriteString(`<text class="axis-label" x="` + num(plotLeft+plotW/2) + `" y="` + num(plotTop+plotH+34) + `" text-anchor="middle">` + html.EscapeString(x.Label) + `</text>`)
	b.WriteString(`<text class="axis-label" transform="translate(14 ` + num(plotTop+plotH/2) + `) rotate(-90)" text-anchor="middle">` + html.EscapeString(y.Label) + `</text>`)

	// Lines, clipped to the plot.
	for _, s := range series {
		if len(s.Points) == 0 {
			continue
		}
		b.WriteString(`<polyline class="series" fill="none" stroke="` + s.Color + `" stroke-width="2" stroke-linejoin="round"`)
		if s.Dashed {
			b.WriteString(` stroke-dasharray="6 4"`)
		}
		b.WriteString(` points="`)
		for i, p := range s.Points {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(num(clamp(px(finite(p.X)), plotLeft, plotLeft+plotW)) + "," + num(clamp(py(finite(p.Y)), plotTop, plotTop+plotH)))
		}
		b.WriteString(`"><title>` + html.EscapeString(s.Name) + `</title></polyline>`)
	}

	// Legend.
	b.WriteString(`<g class="legend">`)
	for _, it := range items {
		yy := legendTop + it.row*legendRowH
		b.WriteString(`<line x1="` + num(it.x) + `" x2="` + num(it.x+22) + `" y1="` + num(yy-4) + `" y2="` + num(yy-4) + `" stroke="` + it.s.Color + `" stroke-width="3"`)
		if it.s.Dashed {
			b.WriteString(` stroke-dasharray="6 4"`)
		}
		b.WriteString(`/><text x="` + num(it.x+28) + `" y="` + num(yy) + `">` + html.EscapeString(it.s.Name) + `</text>`)
	}
	b.WriteString(`</g></svg>`)
	return template.HTML(b.String())
}

func clamp(v, lo, hi float64) float64 { return math.Min(math.Max(v, lo), hi) }

// num formats a coordinate with at most one decimal: enough for a chart,
// and short.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

func itoa(i int) string { return strconv.Itoa(i) }

// linearTicks returns about n round ticks from 0 to at least max, and the
// axis's top (the last tick).
func linearTicks(max float64, n int, format func(float64) string) ([]tick, float64) {
	max = finite(max)
	if max <= 0 {
		max = 1
	}
	step := niceStep(max / float64(n))
	top := math.Ceil(max/step) * step
	var ticks []tick
	// At most n+2 ticks whatever rounding did: a loop bounded by count,
	// not by a float comparison.
	for i := 0; i <= n+2; i++ {
		v := float64(i) * step
		if v > top+step/2 {
			break
		}
		ticks = append(ticks, tick{v, format(v)})
	}
	return ticks, top
}

// chartMax bounds the values a chart draws: a result file may hold any
// float (1e308, or more than any real latency or rate), and the axes must
// stay finite.
const chartMax = 1e12

// finite clamps v into [-chartMax, chartMax], NaN to 0.
func finite(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return math.Max(-chartMax, math.Min(chartMax, v))
}

// niceStep rounds a step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / p; {
	case f <= 1:
		return p
	case f <= 2:
		return 2 * p
	case f <= 5:
		return 5 * p
	}
	return 10 * p
}

// decadeTicks returns ticks at powers of ten covering [lo, hi] (both > 0),
// with the axis bounds rounded out to whole decades.
func decadeTicks(lo, hi float64, format func(float64) string) ([]tick, float64, float64) {
	lo, hi = finite(lo), finite(hi)
	if hi <= 0 {
		hi = 1
	}
	if lo <= 0 {
		lo = hi / 1000
	}
	if hi <= lo {
		hi = lo * 10
	}
	min := math.Pow(10, math.Floor(math.Log10(lo)))
	max := math.Pow(10, math.Ceil(math.Log10(hi)))
	if max <= min {
		max = min * 10
	}
	var ticks []tick
	for v, i := min, 0; v <= max*1.0001 && i < 40; v, i = v*10, i+1 {
		ticks = append(ticks, tick{v, format(v)})
	}
	return ticks, min, max
}

// shortNumber formats an axis label: 1500 → 1.5k, 2000000 → 2M, 0.05 →
// 0.05.
func shortNumber(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// downsample averages runs of points so that at most max remain: a chart
// of a run of days keeps a bounded size.
func downsample(ps []point, max int) []point {
	if len(ps) <= max {
		return ps
	}
	per := (len(ps) + max - 1) / max
	out := make([]point, 0, max)
	for i := 0; i < len(ps); i += per {
		end := min(i+per, len(ps))
		var sx, sy float64
		for _, p := range ps[i:end] {
			sx += p.X
			sy += p.Y
		}
		n := float64(end - i)
		out = append(out, point{sx / n, sy / n})
	}
	return out
}
