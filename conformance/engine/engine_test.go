package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		raw, protocol string
		want          Target
		err           bool
	}{
		{"mx.example:25", "", Target{Protocol: "smtp", Addr: "mx.example:25", FromPort: true}, false},
		{"mx.example:465", "", Target{Protocol: "smtp", Addr: "mx.example:465", ImplicitTLS: true, FromPort: true}, false},
		{"127.0.0.1:995", "", Target{Protocol: "pop3", Addr: "127.0.0.1:995", ImplicitTLS: true, FromPort: true}, false},
		{"[::1]:143", "", Target{Protocol: "imap", Addr: "[::1]:143", FromPort: true}, false},
		{"smtp://mx.example", "", Target{Protocol: "smtp", Addr: "mx.example:25"}, false},
		{"smtps://mx.example:4650", "", Target{Protocol: "smtp", Addr: "mx.example:4650", ImplicitTLS: true}, false},
		{"pop3://bob:pw@h:1110", "", Target{Protocol: "pop3", Addr: "h:1110", User: "bob", Password: "pw"}, false},
		{"imaps://h", "", Target{Protocol: "imap", Addr: "h:993", ImplicitTLS: true}, false},
		{"h:2500", "smtp", Target{Protocol: "smtp", Addr: "h:2500"}, false},
		{"h:2500", "", Target{}, true},
		{"h:25", "ftp", Target{}, true},
		{"http://h", "", Target{}, true},
		{"nohostport", "", Target{}, true},
		{"h:port", "smtp", Target{}, true},
	}
	for _, tc := range tests {
		got, err := ParseTarget(tc.raw, tc.protocol)
		if tc.err {
			if !errors.Is(err, ErrBadTarget) {
				t.Errorf("ParseTarget(%q, %q): err %v, want ErrBadTarget", tc.raw, tc.protocol, err)
			}
			continue
		}
		tc.want.Raw = tc.raw
		if err != nil || got != tc.want {
			t.Errorf("ParseTarget(%q, %q) = %+v, %v; want %+v", tc.raw, tc.protocol, got, err, tc.want)
		}
	}
}

func TestProtocolOfGreeting(t *testing.T) {
	for line, want := range map[string]string{
		"220 mx ESMTP\r\n": "smtp", "+OK POP3 ready\r\n": "pop3", "* OK [CAPABILITY IMAP4rev1] ready\r\n": "imap",
		"* PREAUTH hi\r\n": "imap", "SSH-2.0-OpenSSH\r\n": "",
	} {
		if got := ProtocolOfGreeting(line); got != want {
			t.Errorf("%q: %q, want %q", line, got, want)
		}
	}
}

func TestSelected(t *testing.T) {
	o := Options{Only: []string{"smtp.data.*", "smtp.noop.ok"}, Skip: []string{"smtp.data.bare-lf-dot"}}
	for id, want := range map[string]bool{
		"smtp.data.transparency": true, "smtp.noop.ok": true, "smtp.data.bare-lf-dot": false, "smtp.rset.ok": false,
	} {
		if got := o.Selected(id); got != want {
			t.Errorf("Selected(%q) = %v", id, got)
		}
	}
	if !(&Options{}).Selected("anything") {
		t.Error("no globs selects everything")
	}
}

func TestEscapeLine(t *testing.T) {
	for in, want := range map[string]string{
		"250 OK\r\n": "250 OK", "bare\n": `bare\n`, "cr\rmid\r\n": `cr\rmid`, "caf\xe9\r\n": `caf\xe9`, `back\slash`: `back\\slash`,
	} {
		if got := EscapeLine([]byte(in)); got != want {
			t.Errorf("EscapeLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRunnerVerdicts(t *testing.T) {
	checks := []*Check{
		{ID: "t.pass", Level: Must, Run: func(context.Context, *T) error { return nil }},
		{ID: "t.fail", Level: Must, Run: func(_ context.Context, t *T) error { t.Fail("broken %d", 1); return nil }},
		{ID: "t.warn", Level: Should, Run: func(_ context.Context, t *T) error { t.Fail("meh"); return nil }},
		{ID: "t.skip", Level: Must, Run: func(_ context.Context, t *T) error { t.Skip("n/a"); return nil }},
		{ID: "t.error", Level: Must, Run: func(context.Context, *T) error { return errors.New("network down") }},
		{ID: "t.panic", Level: Must, Run: func(context.Context, *T) error { panic("boom") }},
		{ID: "t.timeout", Level: Must, Run: func(ctx context.Context, _ *T) error { <-ctx.Done(); return ctx.Err() }},
	}
	opts := Options{Timeout: 200 * time.Millisecond}.WithDefaults()
	results := RunChecks(context.Background(), Target{Protocol: "smtp", Addr: "x:25"}, checks, &opts)
	want := []Status{Pass, Fail, Warn, Skip, Error, Error, Error}
	for i, r := range results {
		if r.ID != checks[i].ID || r.Status != want[i] {
			t.Errorf("%s: %s (%s), want %s", r.ID, r.Status, r.Message, want[i])
		}
	}
	if results[1].Message != "broken 1" || !strings.Contains(results[6].Message, "check timeout") {
		t.Errorf("messages: %q, %q", results[1].Message, results[6].Message)
	}
}

// TestTargetErrorsHidePasswords: a bad target's error, and Redacted, show
// the target without its password (errors end up in CI logs).
func TestTargetErrorsHidePasswords(t *testing.T) {
	for _, raw := range []string{
		"pop3://bob:hunter2@h:99999", "imap://bob:hunter2@", "smtp://bob:hunter2@h:25/%zz", "gopher://bob:hunter2@h:25",
	} {
		_, err := ParseTarget(raw, "")
		if err == nil {
			t.Errorf("%s: no error", raw)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the password: %v", raw, err)
		}
	}
	tg, err := ParseTarget("pop3://bob:hunter2@h:110", "")
	if err != nil || tg.Redacted() != "pop3://bob:xxxxx@h:110" {
		t.Errorf("Redacted: %q, %v", tg.Redacted(), err)
	}
}
