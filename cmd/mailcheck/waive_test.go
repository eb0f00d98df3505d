package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailcheck/mailcheck/conformance"
	"github.com/mailcheck/mailcheck/internal/smtptest"
)

// TestConformWaive runs conform against a fake SMTP server that fails a
// MUST (RCPT before MAIL accepted) and a SHOULD (unknown command code),
// with a waiver file that waives the first, holds an expired waiver for
// the second and a stale one, and reads every output for them.
func TestConformWaive(t *testing.T) {
	fake := smtptest.Start(t, smtptest.Config{Extensions: []string{"PIPELINING"}})
	dir := t.TempDir()
	waivers := filepath.Join(dir, "waivers.txt")
	os.WriteFile(waivers, []byte(`# CI waivers
smtp.sequence.rcpt-before-mail target=127.0.0.1:* ticket 17: the fake takes RCPT before MAIL

smtp.command.unknown expires=2001-01-01 long expired
pop3.* no POP3 target in this run
`), 0o644)
	target := "smtp://" + fake.Addr()
	only := []string{"--only", "smtp.sequence.rcpt-before-mail", "--only", "smtp.command.unknown"}
	conform := func(extra ...string) (string, error) {
		return runCommand(t, "", append(append([]string{"conform", target}, only...), extra...)...)
	}

	out, err := conform("--waive", waivers, "--json", dir+"/r.json", "--junit", dir+"/r.xml", "--html", dir+"/r.html")
	if code := exitCode(err); code != exitOK {
		t.Fatalf("the MUST failure is waived and the warn passes at --fail-on must: exit %d (%v)\n%s", code, err, out)
	}
	for _, want := range []string{
		"WAIVED smtp.sequence.rcpt-before-mail",
		"waived (was FAIL) by " + waivers + ":2: ticket 17: the fake takes RCPT before MAIL",
		"WARN smtp.command.unknown",
		"waiver " + waivers + ":4 expired on 2001-01-01, not applied: long expired",
		"STALE   " + waivers + ":5 pop3.*: no POP3 target in this run",
		"1 stale",
		"1 waived",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	checkWaivedJSON(t, dir+"/r.json", waivers)
	checkWaivedJUnit(t, dir+"/r.xml")
	html, _ := os.ReadFile(dir + "/r.html")
	for _, want := range []string{`<span class="badge waived">WAIVED</span>`, "ticket 17: the fake takes RCPT before MAIL", "STALE", "expired on 2001-01-01", "1 stale"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}

	// mailcheck report reads the waived result back and shows it.
	out, err = runCommand(t, "", "report", dir+"/r.json", "-o", dir+"/again.html", "--junit", dir+"/again.xml")
	if err != nil {
		t.Fatalf("report of a waived result: %v\n%s", err, out)
	}
	again, _ := os.ReadFile(dir + "/again.html")
	if !strings.Contains(string(again), `<span class="badge waived">WAIVED</span>`) || !strings.Contains(string(again), "no POP3 target in this run") {
		t.Error("report's HTML lacks the waived check or the stale waiver")
	}
	checkWaivedJUnit(t, dir+"/again.xml")

	for _, tc := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"without waivers the MUST fails", nil, exitFailure, "conformance failures"},
		{"a stale waiver fails under --strict-waivers", []string{"--waive", waivers, "--strict-waivers"}, exitFailure, "1 stale waiver (--strict-waivers)"},
		{"the expired waiver leaves the warn failing at --fail-on should", []string{"--waive", waivers, "--fail-on", "should"}, exitFailure, "conformance failures at the should level"},
		{"--strict-waivers without --waive", []string{"--strict-waivers"}, exitCannotRun, "needs --waive"},
		{"no waiver file", []string{"--waive", dir + "/none.txt"}, exitCannotRun, "none.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := conform(tc.args...)
			if code := exitCode(err); code != tc.code || err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("exit %d (%v), want %d saying %q\n%s", code, err, tc.code, tc.says, out)
			}
		})
	}

	// Without the stale waiver, --strict-waivers passes.
	os.WriteFile(waivers, []byte("smtp.sequence.rcpt-before-mail ticket 17\nsmtp.command.unknown ticket 18\n"), 0o644)
	if out, err := conform("--waive", waivers, "--strict-waivers", "--fail-on", "should"); err != nil {
		t.Errorf("every failure waived, no stale waiver: %v\n%s", err, out)
	}

	// A malformed line is a usage error naming the file and line.
	os.WriteFile(waivers, []byte("# ok\nsmtp.* expires=tomorrow reason\n"), 0o644)
	_, err = conform("--waive", waivers)
	if exitCode(err) != exitCannotRun || err == nil || !strings.Contains(err.Error(), waivers+":2: expires=tomorrow: want a date YYYY-MM-DD") {
		t.Errorf("malformed waiver file: exit %d, %v", exitCode(err), err)
	}
}

func checkWaivedJSON(t *testing.T, path, waivers string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r conformance.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Version != 1 || r.Summary[conformance.Waived] != 1 || r.Summary[conformance.Fail] != 0 || r.Summary[conformance.Warn] != 1 {
		t.Errorf("JSON version %d, summary %v", r.Version, r.Summary)
	}
	for _, c := range r.Checks {
		switch c.ID {
		case "smtp.sequence.rcpt-before-mail":
			if c.Status != conformance.Waived || c.WaivedStatus != conformance.Fail || c.Waiver == nil || c.Waiver.Source != waivers+":2" || c.Waiver.Expired {
				t.Errorf("JSON of the waived check: %+v %+v", c, c.Waiver)
			}
		case "smtp.command.unknown":
			if c.Status != conformance.Warn || c.Waiver == nil || !c.Waiver.Expired {
				t.Errorf("JSON of the check whose waiver expired: %+v %+v", c, c.Waiver)
			}
		}
	}
	if len(r.Waivers) != 3 || r.Waivers[0].Waived != 1 || !r.Waivers[1].Expired || r.Waivers[1].Stale || !r.Waivers[2].Stale || r.StrictWaivers {
		t.Errorf("JSON waivers %+v", r.Waivers)
	}
}

func checkWaivedJUnit(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var waived, stale bool
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if strings.HasPrefix(c.Name, "smtp.sequence.rcpt-before-mail") {
				waived = c.Skipped != nil && strings.Contains(c.Skipped.Message, "waived (was FAIL)") && strings.Contains(c.Skipped.Message, "ticket 17") && c.Failure == nil
			}
			if s.Name == "waivers" && strings.Contains(c.Name, "pop3.*") {
				stale = c.Skipped != nil && strings.Contains(c.Skipped.Message, "stale waiver")
			}
		}
	}
	if !waived || !stale {
		t.Errorf("%s: waived check skipped with its reason %v, stale waiver shown %v\n%s", path, waived, stale, data)
	}
}

// TestConformErrorsHidePasswords: errors end up in CI logs; the targets'
// passwords must not.
func TestConformErrorsHidePasswords(t *testing.T) {
	for _, args := range [][]string{
		{"conform", "pop3://bob:hunter22@127.0.0.1:1"},
		{"conform", "--readback", "smtp://bob:hunter22@127.0.0.1:25"},
		{"conform", "--seed", "pop3://bob:hunter22@127.0.0.1:110"},
	} {
		out, err := runCommand(t, "", args...)
		if err == nil || exitCode(err) != exitCannotRun {
			t.Errorf("%v: exit %d (%v), want %d", args, exitCode(err), err, exitCannotRun)
			continue
		}
		if strings.Contains(err.Error()+out, "hunter22") || !strings.Contains(err.Error(), "bob:xxxxx@") {
			t.Errorf("%v: the error shows the password or no target: %v\n%s", args, err, out)
		}
	}
}
