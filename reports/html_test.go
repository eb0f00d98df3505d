package reports

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mailcheck/mailcheck/conformance/verdict"
	"github.com/mailcheck/mailcheck/load/summary"
	"github.com/mailcheck/mailcheck/target"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The fixtures are real results: conformance.json is a run against
// Postfix 3.7 (one failure, skips, passes; long transcripts cut),
// load.json and load-baseline.json two open-loop runs against the
// embedded reference server.

func readConformance(t testing.TB, name string) *verdict.Report {
	t.Helper()
	var r verdict.Report
	readJSON(t, name, &r)
	return &r
}

func readLoad(t testing.TB, name string) *summary.Result {
	t.Helper()
	var r summary.Result
	readJSON(t, name, &r)
	return &r
}

func readJSON(t testing.TB, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func writeHTML(t testing.TB, runs []Run, opts HTMLOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, runs, opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestHTMLGolden pins the HTML of fixed results: any change to the page
// shows up as a diff to review (go test ./reports -run Golden -update
// rewrites them). Writing twice gives the same bytes: no clock and no map
// order leak in.
func TestHTMLGolden(t *testing.T) {
	opts := HTMLOptions{Tool: "mailcheck v0.0.0-test"}
	cases := []struct {
		golden string
		runs   func() []Run
		opts   HTMLOptions
	}{
		{"conformance.golden.html", func() []Run {
			return []Run{{Label: "conformance.json", Conformance: readConformance(t, "conformance.json")}}
		}, opts},
		{"load.golden.html", func() []Run { return []Run{{Label: "load.json", Load: readLoad(t, "load.json")}} }, opts},
		{"compare.golden.html", func() []Run { return []Run{{Label: "load.json", Load: readLoad(t, "load.json")}} },
			HTMLOptions{Tool: opts.Tool, Baselines: []Run{{Label: "load-baseline.json", Load: readLoad(t, "load-baseline.json")}}}},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			got := writeHTML(t, c.runs(), c.opts)
			if again := writeHTML(t, c.runs(), c.opts); again != got {
				t.Fatal("two writes of the same results differ")
			}
			path := filepath.Join("testdata", c.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
				for i := 0; i < max(len(gl), len(wl)); i++ {
					var g, w string
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("%s differs from line %d:\n got: %.300s\nwant: %.300s\n(go test ./reports -run Golden -update rewrites it)", path, i+1, g, w)
					}
				}
			}
		})
	}
}

// externalRefs finds what would make a page load something from
// elsewhere: URLs in src, href, xlink:href, srcset, action, poster or
// data attributes (page anchors "#…" and data: are fine), stylesheets by
// link, CSS @import and url(), and scripts at all.
func externalRefs(page string) []string {
	var found []string
	tag := regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	attr := regexp.MustCompile(`(?i)\s(src|href|xlink:href|srcset|action|poster|data|background|formaction)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
	for _, t := range tag.FindAllString(page, -1) {
		for _, m := range attr.FindAllStringSubmatch(t, -1) {
			v := strings.Trim(m[2], `"'`)
			if strings.HasPrefix(v, "#") || strings.HasPrefix(v, "data:") {
				continue
			}
			found = append(found, m[1]+"="+v)
		}
	}
	for _, re := range []string{`(?i)<link\b[^>]*>`, `(?i)@import`, `(?i)url\(`, `(?i)<script\b`, `(?i)<iframe\b`, `(?i)<object\b`, `(?i)<embed\b`, `(?i)<img\b`} {
		found = append(found, regexp.MustCompile(re).FindAllString(page, -1)...)
	}
	return found
}

func TestHTMLReferencesNothingExternal(t *testing.T) {
	// The check itself must be able to fail.
	for _, bad := range []string{
		`<img src="https://example.org/x.png">`, `<link rel="stylesheet" href="style.css">`,
		`<a href="http://example.org/">x</a>`, `<style>@import "x.css";</style>`,
		`<div style="background: url(http://e.org/x.png)">`, `<script src="app.js"></script>`, `<use xlink:href="http://e.org/s.svg#a"/>`,
	} {
		if len(externalRefs(bad)) == 0 {
			t.Errorf("externalRefs misses %s", bad)
		}
	}
	if refs := externalRefs(`<a href="#run-1">x</a><svg xmlns="http://www.w3.org/2000/svg"></svg>`); len(refs) != 0 {
		t.Errorf("externalRefs flags a page anchor or a namespace: %v", refs)
	}

	page := writeHTML(t, []Run{
		{Label: "conformance.json", Conformance: readConformance(t, "conformance.json")},
		{Label: "load.json", Load: readLoad(t, "load.json")},
		{Label: "hostile", Conformance: hostileReport()},
	}, HTMLOptions{Baselines: []Run{{Label: "load-baseline.json", Load: readLoad(t, "load-baseline.json")}}})
	if refs := externalRefs(page); len(refs) > 0 {
		t.Errorf("the report refers to things outside itself: %q", refs)
	}
	for _, want := range []string{"<style>", `<svg class="chart throughput"`, `<svg class="chart spectrum transaction"`, `<svg class="chart spectrum phases"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %s", want)
		}
	}
}

// hostileReport holds what a hostile server could make a transcript or a
// message say.
func hostileReport() *verdict.Report {
	lines := []verdict.Line{
		{Dir: verdict.DirClient, Text: `EHLO "quoted" & 'single'`},
		{Dir: verdict.DirServer, Text: `250 <script>console.error("xss")</script>`},
		{Dir: verdict.DirServer, Text: "250 raw 8-bit: \xff\xfe caf\xc3\xa9 \x00 \x1b[31m"},
		{Dir: verdict.DirServer, Text: `250 </pre></details></td></tr></table><img src=x onerror=alert(1)>`},
		{Dir: verdict.DirNote, Text: `]]> <!-- --> <![CDATA[ x`},
		{Dir: verdict.DirServer, Text: "250 gpj.\u202eexe hidden\u200bspace line\u2028break"},
	}
	return &verdict.Report{
		Kind: verdict.ReportKind, Version: verdict.ReportVersion, Tool: `<b>tool</b>`,
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Targets: []target.Target{{Raw: `smtp://h"><script>alert(2)</script>:25`, Protocol: "smtp"}},
		Checks: []verdict.Result{{
			ID: `smtp.<x>`, Title: `<i>title</i> & "more"`, Protocol: "smtp", Level: verdict.Must,
			Spec: `RFC <5321>`, Target: `smtp://h"><script>alert(3)</script>:25`, Status: verdict.Fail,
			Message: `<script>alert(4)</script> & "quoted"`, Transcript: lines,
		}},
	}
}

func TestHTMLEscapesHostileText(t *testing.T) {
	res := readLoad(t, "load.json")
	res.Errors = []summary.ErrorClass{{Class: `rcpt reply 550 <script>`, Phase: summary.PhaseRcpt, Count: 1, Example: `550 <script>alert(5)</script> & "x"`}}
	res.Settings.Target = `smtp://"><script>alert(6)</script>`
	page := writeHTML(t, []Run{{Label: `<b>label</b>`, Conformance: hostileReport()}, {Label: `x"y`, Load: res}},
		HTMLOptions{Title: `<title>&`, Tool: `<script>alert(7)</script>`})
	if n := strings.Count(strings.ToLower(page), "<script"); n != 0 {
		t.Errorf("%d <script elements in the page", n)
	}
	for _, bad := range []string{"<img", "<b>", "<i>", "</pre></details></td></tr></table>", "\x00", "\x1b", "\xff", "\u202e", "\u200b", "\u2028"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q unescaped", bad)
		}
	}
	for _, want := range []string{
		`&lt;script&gt;console.error(&#34;xss&#34;)&lt;/script&gt;`,
		`EHLO &#34;quoted&#34; &amp; &#39;single&#39;`,
		`&lt;/pre&gt;&lt;/details&gt;`,
		`&lt;script&gt;alert(4)&lt;/script&gt; &amp; &#34;quoted&#34;`,
		`550 &lt;script&gt;alert(5)&lt;/script&gt;`,
		`café`,
		`raw 8-bit: \xff\xfe`, `\x00 \x1b[31m`, `gpj.\u202eexe hidden\u200bspace line\u2028break`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks the escaped text %s", want)
		}
	}
}

// largeLoadResult is a run of ten million messages: a histogram per phase
// holding them all, and a per-second series of almost three hours.
func largeLoadResult(t testing.TB) *summary.Result {
	const messages = 10_000_000
	res := readLoad(t, "load.json")
	res.Sent, res.Accepted, res.Failed = messages+500, messages, 500
	res.Settings.Messages, res.Settings.Rate = messages, 1000
	res.Elapsed, res.Active = messages/1000, messages/1000
	res.Series = nil
	for s := 1; s <= messages/1000; s++ {
		res.Series = append(res.Series, summary.Second{T: s, Started: 1000, Accepted: 1000 - int64(s%7), Failed: int64(s % 7), Bytes: 1000 * 1024})
	}
	for p := range res.Phases {
		h := hdrhistogram.New(1, 60_000_000, 3)
		// A spread of latencies: every value class the histogram keeps.
		for v := int64(1); v < 10_000_000; v = v*21/20 + 1 {
			h.RecordValues(v, messages/400)
		}
		enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			t.Fatal(err)
		}
		res.Phases[p].Histogram = string(enc)
		res.Phases[p].Count = h.TotalCount()
	}
	for i := range 40 {
		res.Errors = append(res.Errors, summary.ErrorClass{Class: fmt.Sprintf("rcpt reply 45%d", i), Phase: summary.PhaseRcpt, Count: 12, Example: strings.Repeat("450 busy ", 20)})
	}
	return res
}

// largeConformanceReport has 200 checks, each with a transcript of a
// typical length (40 lines of up to 120 octets).
func largeConformanceReport() *verdict.Report {
	r := &verdict.Report{Kind: verdict.ReportKind, Version: verdict.ReportVersion, Tool: "test",
		Targets: []target.Target{{Raw: "smtp://h:25", Protocol: "smtp"}}, Summary: map[verdict.Status]int{}}
	statuses := []verdict.Status{verdict.Pass, verdict.Pass, verdict.Pass, verdict.Fail, verdict.Warn, verdict.Skip, verdict.Error}
	for i := range 200 {
		c := verdict.Result{ID: fmt.Sprintf("smtp.check-%03d", i), Title: "A check of something the RFC requires", Protocol: "smtp",
			Level: verdict.Must, Spec: "RFC 5321 §4.1.1.1", Target: "smtp://h:25", Status: statuses[i%len(statuses)], Message: "what was seen"}
		for j := range 40 {
			c.Transcript = append(c.Transcript, verdict.Line{AtMS: float64(j), Dir: verdict.DirServer, Text: "250-" + strings.Repeat("x", 60+j%60)})
		}
		r.Checks = append(r.Checks, c)
	}
	return r
}

// TestHTMLLargeInput: a load result of ten million messages and a
// conformance result of 200 checks make a report under 5 MB. The time it
// takes is measured by BenchmarkHTMLLarge (timings stay out of pass/fail
// tests); this test logs it.
func TestHTMLLargeInput(t *testing.T) {
	runs := []Run{{Label: "large load", Load: largeLoadResult(t)}, {Label: "large conformance", Conformance: largeConformanceReport()}}
	start := time.Now()
	page := writeHTML(t, runs, HTMLOptions{})
	took := time.Since(start)
	t.Logf("%d octets in %v", len(page), took)
	if len(page) >= 5<<20 {
		t.Errorf("the report of a 10M-message load and 200 checks is %d octets, want under 5 MB", len(page))
	}
	if !strings.Contains(page, "10000000") {
		t.Error("the count of accepted messages is missing")
	}
}

func BenchmarkHTMLLarge(b *testing.B) {
	runs := []Run{{Label: "large load", Load: largeLoadResult(b)}, {Label: "large conformance", Conformance: largeConformanceReport()}}
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := WriteHTML(&buf, runs, HTMLOptions{}); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "octets")
}

func TestHTMLComparison(t *testing.T) {
	base := readLoad(t, "load.json")
	worse := readLoad(t, "load.json")
	worse.MsgsPS = base.MsgsPS * 0.5
	worse.Phases[summary.PhaseTransaction].P["99"] = base.Phases[summary.PhaseTransaction].P["99"] * 3
	better := readLoad(t, "load.json")
	better.MsgsPS = base.MsgsPS * 2
	same := readLoad(t, "load.json")
	same.MsgsPS = base.MsgsPS * 1.05 // within the 10% tolerance

	baseline := []Run{{Label: "base", Load: base}}
	regs, err := Regressions([]Run{{Label: "worse", Load: worse}}, HTMLOptions{Baselines: baseline})
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(regs, "\n")
	if len(regs) != 2 || !strings.Contains(joined, "msgs/s") || !strings.Contains(joined, "transaction p99") {
		t.Errorf("regressions of a run half as fast with 3x the p99: %q", regs)
	}
	for _, r := range []*summary.Result{better, same} {
		if regs, _ := Regressions([]Run{{Label: "other", Load: r}}, HTMLOptions{Baselines: baseline}); len(regs) != 0 {
			t.Errorf("regressions of a run no worse: %q", regs)
		}
	}
	page := writeHTML(t, []Run{{Label: "worse", Load: worse}, {Label: "better", Load: better}}, HTMLOptions{Baselines: baseline})
	if !strings.Contains(page, `class="worse"`) || !strings.Contains(page, `class="better"`) || !strings.Contains(page, "-50.0%") || !strings.Contains(page, "&#43;100.0%") {
		t.Error("the comparison does not mark the regression and the improvement")
	}

	// Conformance: a check that passed and now fails is a regression; one
	// that failed and now passes is not.
	a, b := sampleReport(), sampleReport()
	b.Checks[0].Status, b.Checks[1].Status = verdict.Fail, verdict.Pass
	regs, err = Regressions([]Run{{Label: "a", Conformance: a}, {Label: "b", Conformance: b}}, HTMLOptions{})
	if err != nil || len(regs) != 1 || !strings.Contains(regs[0], "smtp.a") {
		t.Errorf("conformance regressions: %q %v", regs, err)
	}
	if regs, _ := Regressions([]Run{{Label: "a", Conformance: a}, {Label: "a again", Conformance: sampleReport()}}, HTMLOptions{}); len(regs) != 0 {
		t.Errorf("regressions between equal runs: %q", regs)
	}
}

func TestHTMLRedactsPasswords(t *testing.T) {
	r := sampleReport()
	r.Targets[0].Raw = "pop3://bob:hunter2@h:110"
	r.Checks[0].Target = "pop3://bob:hunter2@h:110"
	page := writeHTML(t, []Run{{Conformance: r}}, HTMLOptions{})
	if strings.Contains(page, "hunter2") || !strings.Contains(page, "bob:xxxxx@h:110") {
		t.Error("a password in a target URL is shown")
	}
}

// TestHTMLHugeValues: a result file may hold any float. Latencies of
// 1e308 ms, NaN and a rate of 1e300 still make a page, with finite axes
// (an infinite axis top once made the tick loop run forever).
func TestHTMLHugeValues(t *testing.T) {
	res := readLoad(t, "load.json")
	for _, l := range res.Phases {
		l.Histogram = "" // the summary's figures are drawn instead
		l.Max, l.Min = 1.7e308, math.NaN()
		l.P["99"] = 1.5e308
	}
	res.MsgsPS = 1e300
	res.Series = append(res.Series, summary.Second{T: 3, Accepted: math.MaxInt64})
	done := make(chan string, 1)
	go func() { done <- writeHTML(t, []Run{{Load: res}}, HTMLOptions{}) }()
	select {
	case page := <-done:
		for _, bad := range []string{"NaN", "Inf"} {
			if strings.Contains(page, `="`+bad) || strings.Contains(page, ","+bad) || strings.Contains(page, " "+bad+",") {
				t.Errorf("%s in the page's coordinates", bad)
			}
		}
		if !strings.Contains(page, `<svg class="chart spectrum transaction"`) {
			t.Error("no transaction chart")
		}
	case <-time.After(30 * time.Second): // a hang guard, not a speed limit
		t.Fatal("WriteHTML did not return")
	}
}
