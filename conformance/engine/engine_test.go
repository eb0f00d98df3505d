package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

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
