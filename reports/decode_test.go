package reports

import (
	"bytes"
	"os"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mailcheck/mailcheck/load/summary"
)

// TestDecodeFixtures: the kind of a result file comes from its content.
func TestDecodeFixtures(t *testing.T) {
	files, err := ReadFiles([]string{"testdata/conformance.json", "testdata/load.json"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Conformance == nil || files[0].Load != nil || files[1].Load == nil || files[1].Conformance != nil {
		t.Fatalf("decoded %+v", files)
	}
	if files[1].Path != "testdata/load.json" || files[1].Load.Sent == 0 {
		t.Errorf("load result %q: sent %d", files[1].Path, files[1].Load.Sent)
	}
}

// TestDecodeErrors: every error names the file; malformed JSON names the
// line and column of the fault; a newer version or an unknown kind is
// refused before it is decoded into a model it may not fit.
func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
		logs             bool
	}{
		{"syntax", "{\n  \"kind\": \"mailcheck.load\",\n  \"sent\": oops\n}", "r.json:3:11 (octet 41): invalid character 'o'", false},
		{"type", "{\n  \"kind\": \"mailcheck.load\",\n  \"sent\": \"many\"\n}", "r.json:3:16 (octet 46): json: cannot unmarshal string", false},
		{"kind of a type", `{"kind": 7}`, "r.json:1:10 (octet 10)", false},
		{"truncated", `{"kind": "mailcheck.load", "sent": 1`, "r.json:1:36: truncated: the JSON ends after 36 octets", false},
		{"newer load", `{"kind": "mailcheck.load", "version": 99, "sent": "not a number in v1"}`, "r.json: a load result of version 99; this mailcheck reads version 1", false},
		{"newer conformance", `{"kind": "mailcheck.conformance", "version": 2}`, "r.json: a conformance result of version 2; this mailcheck reads version 1", false},
		{"unknown kind", `{"kind": "something.else"}`, `r.json: kind "something.else": want "mailcheck.load" or "mailcheck.conformance"`, false},
		{"not JSON", "hello\n", "r.json: not a JSON result", false},
		{"empty", "  \n", "r.json: not a JSON result", false},
		{"neither", "hello\n", "r.json: neither a JSON result nor an HdrHistogram log", true},
	} {
		_, err := Decode("r.json", []byte(tc.data), tc.logs)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestDecodeHdrLog: an interval log is told from JSON by its content,
// only where logs are acceptable, and one without intervals is refused.
func TestDecodeHdrLog(t *testing.T) {
	var log bytes.Buffer
	w := hdrhistogram.NewHistogramLogWriter(&log)
	h := summary.NewHistogram()
	for v := range int64(10) {
		h.RecordValue(1000 + v)
	}
	h.SetStartTimeMs(1_700_000_000_000)
	h.SetEndTimeMs(1_700_000_001_000)
	if err := w.OutputLogFormatVersion(); err != nil {
		t.Fatal(err)
	}
	if err := w.OutputLegend(); err != nil {
		t.Fatal(err)
	}
	legendOnly := bytes.Clone(log.Bytes())
	if err := w.OutputIntervalHistogram(h); err != nil {
		t.Fatal(err)
	}
	f, err := Decode("r.hlog", log.Bytes(), true)
	if err != nil || len(f.Intervals) != 1 || f.Intervals[0].TotalCount() != 10 || f.Load != nil {
		t.Fatalf("log: %+v %v", f, err)
	}
	if _, err := Decode("r.hlog", log.Bytes(), false); err == nil {
		t.Error("a log decoded where only JSON results are acceptable")
	}
	if _, err := Decode("r.hlog", legendOnly, true); err == nil || !strings.Contains(err.Error(), "no HdrHistogram intervals") {
		t.Errorf("a log without intervals: %v", err)
	}
	path := t.TempDir() + "/r.hlog"
	if err := os.WriteFile(path, legendOnly, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadHdrLogFile(path); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("ReadHdrLogFile of a log without intervals: %v, want an error naming the file", err)
	}
}
