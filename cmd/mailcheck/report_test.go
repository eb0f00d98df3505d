package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailcheck/mailcheck/conformance"
	"github.com/mailcheck/mailcheck/load"
)

// The reports package's fixtures: real results.
const (
	fixtureConformance = "../../reports/testdata/conformance.json"
	fixtureLoad        = "../../reports/testdata/load.json"
	fixtureBaseline    = "../../reports/testdata/load-baseline.json"
)

func TestReportHTMLJSONJUnit(t *testing.T) {
	dir := t.TempDir()
	out, err := runCommand(t, "", "report", fixtureConformance, fixtureLoad, "-o", dir+"/r.html",
		"--junit", dir+"/r.xml", "--threshold", "p99<1ms", "--threshold", "errors<1")
	if exitCode(err) != exitFailure || !strings.Contains(out, "p99<1ms") {
		t.Errorf("a breached threshold: exit %d (%v), want 1\n%s", exitCode(err), err, out)
	}
	html, err := os.ReadFile(dir + "/r.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Conformance: smtp://127.0.0.1:2526", "Load: smtp://127.0.0.1:41505", `<svg class="chart spectrum transaction"`} {
		if !strings.Contains(string(html), want) {
			t.Errorf("the HTML report lacks %q", want)
		}
	}
	var junit struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	data, err := os.ReadFile(dir + "/r.xml")
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(data, &junit); err != nil {
		t.Fatal(err)
	}
	// 24 checks (one failure) and two thresholds (p99<1ms breached).
	if junit.Tests != 26 || junit.Failures != 2 {
		t.Errorf("JUnit: %d tests, %d failures; want 26 and 2\n%s", junit.Tests, junit.Failures, data)
	}
	last := junit.Suites[len(junit.Suites)-1]
	if !strings.HasPrefix(last.Name, "load ") || len(last.Cases) != 2 || last.Cases[0].Failure == nil || last.Cases[1].Failure != nil {
		t.Errorf("JUnit load suite: %+v", last)
	}
}

func TestReportBaseline(t *testing.T) {
	dir := t.TempDir()
	// A candidate much slower than its baseline.
	var slow load.Result
	data, _ := os.ReadFile(fixtureLoad)
	if err := json.Unmarshal(data, &slow); err != nil {
		t.Fatal(err)
	}
	slow.MsgsPS /= 2
	data, _ = json.Marshal(slow)
	os.WriteFile(dir+"/slow.json", data, 0o644)

	out, err := runCommand(t, "", "report", dir+"/slow.json", "--baseline", fixtureLoad, "-o", dir+"/c.html")
	if err != nil || !strings.Contains(out, "regressions") || !strings.Contains(out, "load msgs/s") {
		t.Errorf("without --fail-on-regression: %v (want exit 0, the regressions listed)\n%s", err, out)
	}
	if _, err := runCommand(t, "", "report", dir+"/slow.json", "--baseline", fixtureLoad, "--fail-on-regression"); exitCode(err) != exitFailure {
		t.Errorf("--fail-on-regression with a regression: %v, want exit 1", err)
	}
	if _, err := runCommand(t, "", "report", fixtureLoad, "--baseline", fixtureLoad, "--fail-on-regression"); err != nil {
		t.Errorf("a run against itself: %v, want exit 0", err)
	}
	html, _ := os.ReadFile(dir + "/c.html")
	if !strings.Contains(string(html), "Comparison: Load: load.json vs slow.json") || !strings.Contains(string(html), "-50.0%") {
		t.Error("the HTML report lacks the comparison")
	}
	// Two conformance results merge into one JSON result.
	if _, err := runCommand(t, "", "report", fixtureConformance, fixtureConformance, "--json", dir+"/m.json"); exitCode(err) != exitOK {
		t.Fatalf("merging conformance results: %v", err)
	}
	var m conformance.Report
	data, _ = os.ReadFile(dir + "/m.json")
	if err := json.Unmarshal(data, &m); err != nil || len(m.Checks) != 48 || m.Summary[conformance.Fail] != 2 {
		t.Errorf("merged conformance result: %v, %d checks, summary %v", err, len(m.Checks), m.Summary)
	}
}

// TestReportMalformedJSON: a damaged result gets an error naming the file
// and where it went wrong, and exit 2; never a panic.
func TestReportMalformedJSON(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(fixtureLoad)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct{ content, want string }{
		"cut.json":      {string(good[:len(good)/2]), "truncated: the JSON ends after"},
		"syntax.json":   {"{\"kind\": \"mailcheck.load\",\n  \"sent\": 12,,\n}", "syntax.json:2:14"},
		"type.json":     {"{\"kind\": \"mailcheck.load\",\n\"sent\": \"many\"}", "type.json:2:"},
		"future.json":   {`{"kind": "mailcheck.load", "version": 99}`, "version 99"},
		"kindless.json": {`{"sent": 1}`, `kind ""`},
	}
	for name, c := range cases {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(c.content), 0o644)
		_, err := runCommand(t, "", "report", path, "-o", dir+"/x.html")
		if exitCode(err) != exitCannotRun || err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v; want exit 2 and an error naming the file and %q", name, err, c.want)
		}
	}
	if _, err := os.Stat(dir + "/x.html"); err == nil {
		t.Error("an HTML report was written from a malformed result")
	}
}

func TestConformAndLoadWriteHTML(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCommand(t, "", "conform", "--only", "smtp.noop.ok", "--html", dir+"/c.html"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCommand(t, "", "load", "--messages", "50", "--quiet", "--html", dir+"/l.html"); err != nil {
		t.Fatal(err)
	}
	c, _ := os.ReadFile(dir + "/c.html")
	l, _ := os.ReadFile(dir + "/l.html")
	if !strings.Contains(string(c), "smtp.noop.ok") || !strings.Contains(string(c), "PASS: every MUST is met") {
		t.Error("conform --html: the report lacks the check")
	}
	if !strings.Contains(string(l), `<svg class="chart spectrum transaction"`) || !strings.Contains(string(l), "<div class=\"v\">50</div>") {
		t.Error("load --html: the report lacks the latency chart or the count")
	}
}

// TestReportTolerance: an HdrHistogram log alone merges into no JSON
// result (ParseTolerance's grammar is tested in reports).
func TestReportTolerance(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCommand(t, "", "load", "--messages", "20", "--quiet", "--hdr-log", dir+"/r.hlog"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCommand(t, "", "report", dir+"/r.hlog", "--json", dir+"/out.json"); exitCode(err) != exitCannotRun {
		t.Errorf("--json with only an HdrHistogram log: %v, want exit 2", err)
	}
}
