package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/load"
	"github.com/mailcheck/mailcheck/reference"
)

func readLoadResult(t *testing.T, path string) *load.Result {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r load.Result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &r
}

func TestLoadEmbedded(t *testing.T) {
	dir := t.TempDir()
	out, err := runCommand(t, "", "load", "--messages", "200", "--sessions", "4", "--quiet",
		"--json", dir+"/r.json", "--hdr-log", dir+"/r.hlog", "--threshold", "p99<10s", "--threshold", "errors<1")
	if code := exitCode(err); code != exitOK {
		t.Fatalf("exit %d (%v)\n%s", code, err, out)
	}
	r := readLoadResult(t, dir+"/r.json")
	if r.Kind != load.ResultKind || r.Sent != 200 || r.Accepted != 200 || r.Failed != 0 {
		t.Errorf("sent %d accepted %d failed %d (errors %+v)", r.Sent, r.Accepted, r.Failed, r.Errors)
	}
	for _, want := range []string{"sent 200  accepted 200  failed 0", "transaction", "p99.99", "all 2 thresholds met"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "load: ") {
		t.Errorf("--quiet printed progress:\n%s", out)
	}
	// The HdrHistogram log holds every transaction of the result.
	rep, err := runCommand(t, "", "report", dir+"/r.json", "--hdr-log-merge", dir+"/r.hlog")
	if err != nil || !strings.Contains(rep, "200 transactions") || !strings.Contains(rep, "agree exactly") {
		t.Errorf("report of the log: %v\n%s", err, rep)
	}
}

func TestLoadExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"threshold breached", []string{"load", "--messages", "20", "--quiet", "--threshold", "p50<1us"}, exitFailure},
		{"threshold on a phase never measured", []string{"load", "--messages", "5", "--quiet", "--starttls", "off", "--threshold", "starttls.max<1s"}, exitFailure},
		{"rate threshold", []string{"load", "--messages", "20", "--quiet", "--threshold", "rate>1e9"}, exitFailure},
		{"bad flag", []string{"load", "--no-such-flag"}, exitCannotRun},
		{"bad threshold", []string{"load", "--threshold", "p99=5ms"}, exitCannotRun},
		{"bad size", []string{"load", "--size", "10k-1k"}, exitCannotRun},
		{"bad pipelining", []string{"load", "--pipelining", "maybe"}, exitCannotRun},
		{"segment 0", []string{"load", "--segment", "0/3"}, exitCannotRun},
		{"two targets", []string{"load", "smtp://127.0.0.1:1", "smtp://127.0.0.1:2"}, exitCannotRun},
		{"not SMTP", []string{"load", "imap://127.0.0.1:143", "--to", "a@b"}, exitCannotRun},
		{"target without --to", []string{"load", "smtp://127.0.0.1:2525"}, exitCannotRun},
		{"unreachable target", []string{"load", "smtp://127.0.0.1:1", "--to", "a@b", "--quiet"}, exitCannotRun},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCommand(t, "", tc.args...)
			if got := exitCode(err); got != tc.code {
				t.Errorf("exit %d, want %d (err %v)\n%s", got, tc.code, err, out)
			}
			if tc.code == exitFailure && !strings.Contains(out, "thresholds breached") {
				t.Errorf("breaches not listed on stdout:\n%s", out)
			}
		})
	}
}

// TestLoadNeverReady: a server that refuses every session at the greeting
// is a run that could not run (exit 2), decided from the result.
func TestLoadNeverReady(t *testing.T) {
	srv, _, err := reference.StartLoopback(func(c *reference.Config) {
		c.POP3Addr, c.IMAPAddr = "", ""
		c.SMTP.MaxConnections = 1
	})
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(srv.DataDir())
	defer srv.Close()
	// One session holds the only slot; the load's sessions get 421.
	holder, err := dialHold(srv.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	out, err := runCommand(t, "", "load", "smtp://"+srv.SMTPAddr(), "--to", "bob@"+reference.LoopbackDomain,
		"--duration", "500ms", "--quiet", "--starttls", "off")
	if code := exitCode(err); code != exitCannotRun || !strings.Contains(err.Error(), "no session became ready") {
		t.Errorf("exit %d (%v), want 2: no session ready\n%s", code, err, out)
	}
}

// TestReportMergesSegments runs two generators, segments 1/2 and 2/2,
// against one server and merges their results and logs.
func TestReportMergesSegments(t *testing.T) {
	srv, _, err := reference.StartLoopback(func(c *reference.Config) { c.POP3Addr, c.IMAPAddr = "", "" })
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(srv.DataDir())
	defer srv.Close()
	dir := t.TempDir()
	for _, seg := range []string{"1", "2"} {
		out, err := runCommand(t, "", "load", "smtp://"+srv.SMTPAddr(), "--to", "bob@"+reference.LoopbackDomain,
			"--messages", "101", "--sessions", "3", "--segment", seg+"/2", "--starttls", "off", "--quiet",
			"--json", filepath.Join(dir, "seg-"+seg+".json"), "--hdr-log", filepath.Join(dir, "seg-"+seg+".hlog"))
		if err != nil {
			t.Fatalf("segment %s: %v\n%s", seg, err, out)
		}
	}
	if a, b := readLoadResult(t, dir+"/seg-1.json"), readLoadResult(t, dir+"/seg-2.json"); a.Accepted != 51 || b.Accepted != 50 {
		t.Errorf("segments accepted %d and %d, want 51 and 50", a.Accepted, b.Accepted)
	}
	out, err := runCommand(t, "", "report", dir+"/seg-1.json", dir+"/seg-2.json", "--json", dir+"/merged.json",
		"--hdr-log-merge", dir+"/seg-1.hlog", dir+"/seg-2.hlog", "--hdr-log-out", dir+"/merged.hlog", "-o", dir+"/merged.html")
	if err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	m := readLoadResult(t, dir+"/merged.json")
	if m.Sent != 101 || m.Accepted != 101 || m.Failed != 0 || m.Settings.Segments != 2 || m.Phases[load.PhaseTransaction].Count != 101 {
		t.Errorf("merged: sent %d accepted %d failed %d segments %d", m.Sent, m.Accepted, m.Failed, m.Settings.Segments)
	}
	for _, want := range []string{"(merged: 2 segments)", "sent 101  accepted 101  failed 0", "2 files", "101 transactions", "agree exactly"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if html, err := os.ReadFile(dir + "/merged.html"); err != nil || !strings.Contains(string(html), "merged from 2 segments") {
		t.Errorf("HTML report of the merged segments: %v", err)
	}
	// The merged log is itself a log report reads.
	back, err := runCommand(t, "", "report", "--hdr-log-merge", dir+"/merged.hlog")
	if err != nil || !strings.Contains(back, "101 transactions") {
		t.Errorf("merged log: %v\n%s", err, back)
	}
	// Judged as one run.
	_, err = runCommand(t, "", "report", dir+"/seg-1.json", dir+"/seg-2.json", "--threshold", "errors>0")
	if exitCode(err) != exitFailure {
		t.Errorf("report --threshold: %v, want exit 1", err)
	}
}

func TestReportUsage(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/other.json", []byte(`{"kind":"something.else"}`), 0o644)
	os.WriteFile(dir+"/junk.txt", []byte("hello\n"), 0o644)
	for _, args := range [][]string{
		{"report"},
		{"report", dir + "/missing.json"},
		{"report", dir + "/other.json"},
		{"report", dir + "/junk.txt"},
		{"report", "--hdr-log-merge", dir + "/junk.txt"},
	} {
		if _, err := runCommand(t, "", args...); exitCode(err) != exitCannotRun {
			t.Errorf("%v: %v, want exit 2", args, err)
		}
	}
}

func TestReportConformance(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCommand(t, "", "conform", "--only", "smtp.noop.ok", "--json", dir+"/c.json"); err != nil {
		t.Fatal(err)
	}
	out, err := runCommand(t, "", "report", dir+"/c.json")
	if err != nil || !strings.Contains(out, "1 checks") || !strings.Contains(out, "1 pass") {
		t.Errorf("report of a conformance result: %v\n%s", err, out)
	}
}

// dialHold opens an SMTP connection and waits for its greeting.
func dialHold(addr string) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
