package reports

import (
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"sync"

	"github.com/mailcheck/mailcheck/conformance/verdict"
	"github.com/mailcheck/mailcheck/load/summary"
)

// A Run is one result in an HTML report: a conformance report or a load
// result (exactly one of the two).
type Run struct {
	// Label names the run in headings and comparisons: its file name, or
	// "baseline".
	Label       string
	Conformance *verdict.Report
	Load        *summary.Result
}

// HTMLOptions configure WriteHTML.
type HTMLOptions struct {
	// Title heads the page; "mailcheck report" when empty.
	Title string
	// Tool is the mailcheck version writing the report, shown at the
	// foot of the page (each run shows the version that made it).
	Tool string
	// Baselines are the runs the others are compared with: at most one
	// conformance report and one load result. Without a baseline, several
	// runs of a kind are compared with the first of them.
	Baselines []Run
	// Tolerance is the relative difference (0.1 = 10%) beyond which a
	// load metric counts as a regression or an improvement; 0 means 10%.
	Tolerance float64
}

//go:embed html.tmpl
var htmlTemplateText string

//go:embed html.css
var htmlCSS string

// htmlTemplate is parsed on first use, not at start-up: every mailcheck
// command would pay for it (half a millisecond, a visible share of a
// short load run's wall-clock time).
var htmlTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"status": statusLabel,
	}).Parse(htmlTemplateText))
})

type pageView struct {
	Title, Tool string
	CSS         template.CSS
	Contents    []keyValue // anchor, heading
	Comparisons []comparisonView
	Sections    []sectionView
}

// sectionView is one run's section: conformance or load.
type sectionView struct {
	Baseline    bool
	Conformance *conformanceView
	Load        *loadView
}

// WriteHTML writes one self-contained HTML page for the runs: inline CSS
// and SVG charts, no scripts, fonts, stylesheets or images from anywhere
// else, so it opens offline and can be attached to a CI job or mailed.
// The same runs give the same bytes (no clock, no map order).
func WriteHTML(w io.Writer, runs []Run, opts HTMLOptions) error {
	page, err := buildPage(runs, opts)
	if err != nil {
		return err
	}
	return htmlTemplate().Execute(w, page)
}

// Regressions lists what got worse in each run compared with its
// reference run (the baseline of its kind, or else the first run of its
// kind), as WriteHTML marks it.
func Regressions(runs []Run, opts HTMLOptions) ([]string, error) {
	g, err := sortRuns(runs, opts)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range g.comparisons(opts) {
		out = append(out, c.Regressions...)
	}
	return out, nil
}

// runGroups are the runs by kind, and the baseline of each kind (nil when
// none was given).
type runGroups struct {
	confs, loads       []Run
	baseConf, baseLoad *Run
}

func sortRuns(runs []Run, opts HTMLOptions) (*runGroups, error) {
	if len(runs) == 0 {
		return nil, errors.New("reports: no runs")
	}
	g := &runGroups{}
	for i := range opts.Baselines {
		b := &opts.Baselines[i]
		if err := b.valid(); err != nil {
			return nil, err
		}
		switch {
		case b.Conformance != nil && g.baseConf == nil:
			g.baseConf = b
		case b.Load != nil && g.baseLoad == nil:
			g.baseLoad = b
		default:
			return nil, errors.New("reports: more than one baseline of a kind")
		}
	}
	for _, r := range runs {
		if err := r.valid(); err != nil {
			return nil, err
		}
		if r.Conformance != nil {
			g.confs = append(g.confs, r)
		} else {
			g.loads = append(g.loads, r)
		}
	}
	return g, nil
}

// comparisons compares the runs of each kind with the baseline of that
// kind, or else with the first run of that kind.
func (g *runGroups) comparisons(opts HTMLOptions) []comparisonView {
	tolerance := opts.Tolerance
	if tolerance <= 0 {
		tolerance = defaultTolerance
	}
	var out []comparisonView
	refConfs := g.confs
	if g.baseConf != nil {
		refConfs = append([]Run{*g.baseConf}, g.confs...)
	}
	if len(refConfs) > 1 {
		reps, labels := make([]*verdict.Report, len(refConfs)), make([]string, len(refConfs))
		for i, r := range refConfs {
			reps[i], labels[i] = r.Conformance, r.Label
		}
		out = append(out, compareConformance(reps, labels))
	}
	refLoads := g.loads
	if g.baseLoad != nil {
		refLoads = append([]Run{*g.baseLoad}, g.loads...)
	}
	if len(refLoads) > 1 {
		res, labels := make([]*summary.Result, len(refLoads)), make([]string, len(refLoads))
		for i, r := range refLoads {
			res[i], labels[i] = r.Load, r.Label
		}
		out = append(out, compareLoads(res, labels, tolerance))
	}
	return out
}

func buildPage(runs []Run, opts HTMLOptions) (*pageView, error) {
	g, err := sortRuns(runs, opts)
	if err != nil {
		return nil, err
	}
	page := &pageView{Title: opts.Title, Tool: opts.Tool, CSS: template.CSS(htmlCSS)}
	if page.Title == "" {
		page.Title = "mailcheck report"
	}
	// Comparisons first: with several runs they are the point of the page.
	page.Comparisons = g.comparisons(opts)
	for _, c := range page.Comparisons {
		page.Contents = append(page.Contents, keyValue{c.Anchor, "Comparison: " + c.Heading})
	}

	n := 0
	addConf := func(r Run, baseline bool) {
		n++
		v := newConformanceView(r.Conformance, r.Label, "run-"+strconv.Itoa(n))
		page.Sections = append(page.Sections, sectionView{Baseline: baseline, Conformance: &v})
		page.Contents = append(page.Contents, keyValue{v.Anchor, v.Heading + labelSuffix(r.Label, baseline)})
	}
	addLoad := func(r Run, baseline bool, ref *Run) {
		n++
		var refRes *summary.Result
		refLabel := ""
		if ref != nil {
			refRes, refLabel = ref.Load, ref.Label
		}
		v := newLoadView(r.Load, r.Label, "run-"+strconv.Itoa(n), refRes, refLabel)
		page.Sections = append(page.Sections, sectionView{Baseline: baseline, Load: &v})
		page.Contents = append(page.Contents, keyValue{v.Anchor, v.Heading + labelSuffix(r.Label, baseline)})
	}
	for _, r := range g.confs {
		addConf(r, false)
	}
	for i, r := range g.loads {
		ref := g.baseLoad
		if ref == nil && i > 0 {
			ref = &g.loads[0]
		}
		addLoad(r, false, ref)
	}
	if g.baseConf != nil {
		addConf(*g.baseConf, true)
	}
	if g.baseLoad != nil {
		addLoad(*g.baseLoad, true, nil)
	}
	return page, nil
}

func labelSuffix(label string, baseline bool) string {
	switch {
	case baseline:
		return " (baseline: " + label + ")"
	case label != "":
		return " (" + label + ")"
	}
	return ""
}

func (r Run) valid() error {
	if (r.Conformance == nil) == (r.Load == nil) {
		return fmt.Errorf("reports: run %q: want a conformance report or a load result", r.Label)
	}
	return nil
}
