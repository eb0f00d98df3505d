package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestStopMethods(t *testing.T) {
	after := false
	tests := []struct {
		name       string
		level      Level
		run        func(ctx context.Context, t *T) error
		wantStatus Status
		wantMsg    string
	}{
		{"FailNow MUST", Must, func(_ context.Context, t *T) error { t.FailNow("bad %d", 1); after = true; return nil }, Fail, "bad 1"},
		{"FailNow SHOULD", Should, func(_ context.Context, t *T) error { t.FailNow("meh"); after = true; return nil }, Warn, "meh"},
		{"SkipNow", Must, func(_ context.Context, t *T) error { t.SkipNow("not offered"); after = true; return nil }, Skip, "not offered"},
		{"Precondition", Must, func(_ context.Context, t *T) error {
			t.Precondition("RCPT refused: %s", "550")
			after = true
			return nil
		}, Skip, "precondition: RCPT refused: 550"},
		{"Require nil goes on", Must, func(_ context.Context, t *T) error { t.Require(nil); t.Fail("reached"); return nil }, Fail, "reached"},
		{"Require error", Must, func(_ context.Context, t *T) error { t.Require(errors.New("reset")); after = true; return nil }, Error, "could not decide: reset"},
		{"Require unmet", Must, func(_ context.Context, t *T) error { t.Require(Unmet("greeting %d", 554)); after = true; return nil }, Skip, "precondition: greeting 554"},
		{"returned unmet", Must, func(_ context.Context, t *T) error { return Unmet("no INBOX") }, Skip, "precondition: no INBOX"},
		{"first verdict stands", Must, func(_ context.Context, t *T) error { t.Fail("first"); t.SkipNow("second"); return nil }, Fail, "first"},
		{"Stop keeps pass", Must, func(_ context.Context, t *T) error { t.Stop(); after = true; return nil }, Pass, ""},
		{"other panics are errors", Must, func(_ context.Context, t *T) error { panic("boom") }, Error, "check panicked: boom"},
	}
	for _, tc := range tests {
		after = false
		c := &Check{ID: "x.y", Level: tc.level, Run: tc.run}
		opts := (&Options{}).WithDefaults()
		r := RunChecks(context.Background(), Target{Protocol: "smtp", Addr: "127.0.0.1:1"}, []*Check{c}, &opts)[0]
		if r.Status != tc.wantStatus || !strings.HasPrefix(r.Message, tc.wantMsg) {
			t.Errorf("%s: %s %q, want %s %q", tc.name, r.Status, r.Message, tc.wantStatus, tc.wantMsg)
		}
		if after {
			t.Errorf("%s: the check went on after stopping", tc.name)
		}
	}
}

func TestStopEndsOnlyItsCheck(t *testing.T) {
	opts := (&Options{Parallel: 2, Timeout: 5 * time.Second}).WithDefaults()
	checks := []*Check{
		{ID: "a", Level: Must, Run: func(_ context.Context, t *T) error { t.FailNow("a"); return nil }},
		{ID: "b", Level: Must, Run: func(_ context.Context, t *T) error { return nil }},
	}
	rs := RunChecks(context.Background(), Target{Protocol: "smtp", Addr: "127.0.0.1:1"}, checks, &opts)
	if rs[0].Status != Fail || rs[1].Status != Pass {
		t.Errorf("got %s and %s, want fail and pass", rs[0].Status, rs[1].Status)
	}
}
