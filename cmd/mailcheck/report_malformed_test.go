package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// mutate reads a fixture as a JSON object, lets edit change it, and writes
// it to dir/name.
func mutate(t *testing.T, fixture, dir, name string, edit func(m map[string]any)) string {
	t.Helper()
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// obj is a JSON object inside m.
func obj(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }

// runGuarded runs a mailcheck command and fails the test if it panics or
// does not return within a guard far above its normal run time; it
// returns the output and error.
func runGuarded(t *testing.T, args ...string) (string, error) {
	t.Helper()
	type outcome struct {
		out   string
		err   error
		panic string
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- outcome{panic: fmt.Sprintf("%v\n%s", p, debug.Stack())}
			}
		}()
		out, err := runCommand(t, "", args...)
		done <- outcome{out: out, err: err}
	}()
	select {
	case o := <-done:
		if o.panic != "" {
			t.Fatalf("report panicked: %s", o.panic)
		}
		return o.out, o.err
	case <-time.After(60 * time.Second):
		t.Fatal("report did not return within a minute: it hangs")
	}
	return "", nil
}

// TestReportMalformedResults: results that parse as JSON but say
// impossible things (no phases, a phase of null, negative counts, a huge
// or backwards series, garbage histograms, absurd segment numbers, checks
// without transcripts) get a report or a clear error, never a panic or a
// hang.
func TestReportMalformedResults(t *testing.T) {
	loadCases := []struct {
		name string
		edit func(m map[string]any)
	}{
		{"no phases", func(m map[string]any) { m["phases"] = nil }},
		{"a phase of null", func(m map[string]any) { obj(m, "phases")["transaction"] = nil }},
		{"all phases null", func(m map[string]any) {
			for k := range obj(m, "phases") {
				obj(m, "phases")[k] = nil
			}
			m["transaction_uncorrected"] = nil
		}},
		{"an unknown phase", func(m map[string]any) { obj(m, "phases")["teleport"] = obj(m, "phases")["mail"] }},
		{"percentiles null", func(m map[string]any) { obj(obj(m, "phases"), "transaction")["percentiles_ms"] = nil }},
		{"garbage histogram", func(m map[string]any) { obj(obj(m, "phases"), "transaction")["histogram"] = "not base64 at all!" }},
		{"histogram of valid base64 garbage", func(m map[string]any) { obj(obj(m, "phases"), "transaction")["histogram"] = "AAAAAAAAAAAAAAAA" }},
		{"negative counts", func(m map[string]any) {
			m["sent"], m["accepted"], m["failed"], m["late"], m["bytes"] = -5, -10, -1, -3, -1000
			m["elapsed_s"], m["active_s"], m["msgs_per_s"], m["mb_per_s"] = -1, -2, -3, -4
			obj(obj(m, "phases"), "transaction")["count"] = -7
		}},
		{"zero time", func(m map[string]any) { m["elapsed_s"], m["active_s"] = 0, 0 }},
		{"huge numbers", func(m map[string]any) {
			m["sent"], m["accepted"], m["bytes"] = 9.2e18, 9.2e18, 9.2e18
			m["msgs_per_s"], m["elapsed_s"] = 1e308, 1e308
		}},
		{"backwards and negative series", func(m map[string]any) {
			m["series"] = []any{
				map[string]any{"t": 5, "started": 1, "accepted": 1},
				map[string]any{"t": -3, "started": -1, "accepted": -100},
				map[string]any{"t": 0},
			}
		}},
		{"a series second far away", func(m map[string]any) {
			m["series"] = []any{map[string]any{"t": 1, "accepted": 1}, map[string]any{"t": 2000000000, "accepted": 5}}
		}},
		{"a long series", func(m map[string]any) {
			s := make([]any, 200000)
			for i := range s {
				s[i] = map[string]any{"t": i + 1, "started": 10, "accepted": 10, "bytes": 10240}
			}
			m["series"] = s
		}},
		{"null errors and empty classes", func(m map[string]any) {
			m["errors"] = []any{nil, map[string]any{}, map[string]any{"class": "", "count": -4}}
		}},
		{"impossible segment", func(m map[string]any) { obj(m, "settings")["segment"], obj(m, "settings")["segments"] = -1, 2 }},
	}
	for _, tc := range loadCases {
		t.Run("load/"+tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := mutate(t, fixtureLoad, dir, "r.json", tc.edit)
			out, err := runGuarded(t, "report", path, "-o", dir+"/r.html", "--json", dir+"/m.json", "--junit", dir+"/r.xml",
				"--threshold", "p99<1s", "--threshold", "errors<1", "--baseline", fixtureBaseline)
			t.Logf("exit %d: %v; %d octets of output", exitCode(err), err, len(out))
		})
	}

	// Segments of one run that claim a huge number of segments: the
	// warnings about missing ones must not count to it.
	t.Run("load/segments of an enormous run", func(t *testing.T) {
		dir := t.TempDir()
		var paths []string
		for i := 1; i <= 2; i++ {
			paths = append(paths, mutate(t, fixtureLoad, dir, fmt.Sprintf("s%d.json", i), func(m map[string]any) {
				obj(m, "settings")["segment"], obj(m, "settings")["segments"] = i, 9e15
			}))
		}
		out, err := runGuarded(t, append([]string{"report"}, append(paths, "--json", dir+"/m.json")...)...)
		if len(out) > 1<<20 || !strings.Contains(out, "8999999999999998 of 9000000000000000 segments are missing") {
			t.Errorf("%d octets of output for two segments, want one warning counting the missing ones", len(out))
		}
		t.Logf("exit %d: %v; output %.300q", exitCode(err), err, out)
	})

	confCases := []struct {
		name string
		edit func(m map[string]any)
	}{
		{"no checks, no summary, no targets", func(m map[string]any) { m["checks"], m["summary"], m["targets"] = nil, nil, nil }},
		{"null checks", func(m map[string]any) { m["checks"] = []any{nil, map[string]any{}} }},
		{"null transcripts and unknown verdicts", func(m map[string]any) {
			for _, c := range m["checks"].([]any) {
				c := c.(map[string]any)
				c["transcript"], c["status"], c["level"], c["duration_ms"] = nil, "bogus", "", -5
			}
		}},
		{"transcript lines of null", func(m map[string]any) {
			m["checks"].([]any)[0].(map[string]any)["transcript"] = []any{nil, map[string]any{"dir": "?", "at_ms": -1}}
		}},
		{"negative summary", func(m map[string]any) {
			m["summary"] = map[string]any{"pass": -3, "weird": 9e18}
			m["duration_ms"] = -1
		}},
	}
	for _, tc := range confCases {
		t.Run("conformance/"+tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := mutate(t, fixtureConformance, dir, "c.json", tc.edit)
			out, err := runGuarded(t, "report", path, "-o", dir+"/c.html", "--json", dir+"/m.json", "--junit", dir+"/c.xml",
				"--baseline", fixtureConformance)
			t.Logf("exit %d: %v; %d octets of output", exitCode(err), err, len(out))
			if err != nil && !strings.Contains(err.Error(), "c.json") && exitCode(err) == exitCannotRun {
				t.Errorf("an error that does not name the file: %v", err)
			}
		})
	}
}
