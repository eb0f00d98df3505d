package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/conformance/verdict"
	"github.com/mailcheck/mailcheck/target"
)

func sampleReport() *verdict.Report {
	return &verdict.Report{
		Kind: verdict.ReportKind, Version: verdict.ReportVersion, Tool: "test",
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), DurationMS: 12.5,
		Targets: []target.Target{{Raw: "smtp://h:25", Protocol: "smtp", Addr: "h:25"}},
		Summary: map[verdict.Status]int{verdict.Pass: 1, verdict.Fail: 1, verdict.Warn: 1},
		Checks: []verdict.Result{
			{ID: "smtp.a", Title: "A passes", Protocol: "smtp", Level: verdict.Must, Spec: "RFC 1 §1", Target: "smtp://h:25", Status: verdict.Pass},
			{ID: "smtp.b", Title: "B fails", Protocol: "smtp", Level: verdict.Must, Spec: "RFC 5321 §4.5.2", Target: "smtp://h:25", Status: verdict.Fail,
				Message: "dots <kept> & \"quoted\"", Transcript: []verdict.Line{{Dir: verdict.DirClient, Text: "DATA"}, {Dir: verdict.DirServer, Text: `<script>\xff`}}},
			{ID: "smtp.c", Title: "C warns", Protocol: "smtp", Level: verdict.Should, Spec: "RFC 2 §2", Target: "smtp://h:25", Status: verdict.Warn, Message: "meh"},
		},
	}
}

func TestJSONModel(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["kind"] != verdict.ReportKind {
		t.Errorf("kind %v", doc["kind"])
	}
	check := doc["checks"].([]any)[1].(map[string]any)
	for _, field := range []string{"id", "protocol", "level", "spec", "status", "message", "transcript"} {
		if _, ok := check[field]; !ok {
			t.Errorf("check lacks %q: %v", field, check)
		}
	}
	if check["status"] != "fail" || check["level"] != "MUST" {
		t.Errorf("check %v", check)
	}
}

func TestJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	var suites junitSuites
	if err := xml.Unmarshal(b.Bytes(), &suites); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	if suites.Tests != 3 || suites.Failures != 1 || len(suites.Suites[0].Cases) != 3 {
		t.Errorf("counts: %+v", suites)
	}
	f := suites.Suites[0].Cases[1].Failure
	if f == nil || !strings.Contains(f.Message, "RFC 5321 §4.5.2") || !strings.Contains(f.Body, `<script>\xff`) {
		t.Errorf("failure %+v", f)
	}
	if strings.Contains(b.String(), "<script>") {
		t.Error("transcript not escaped in the XML")
	}
}

func TestTextFailuresFirst(t *testing.T) {
	var b bytes.Buffer
	WriteText(&b, sampleReport(), TextOptions{})
	out := b.String()
	if strings.Index(out, "FAIL smtp.b") < 0 || strings.Index(out, "WARN smtp.c") < strings.Index(out, "FAIL smtp.b") {
		t.Errorf("failures not first:\n%s", out)
	}
	if strings.Contains(out, "smtp.a") {
		t.Errorf("passing check listed without Verbose:\n%s", out)
	}
	if !strings.Contains(out, "S: <script>") || !strings.Contains(out, "RFC 5321 §4.5.2") {
		t.Errorf("failure lacks its transcript or RFC reference:\n%s", out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour without Color")
	}
}
