package summary

import "testing"

// TestNeverReady: a run is never ready when nothing was accepted and every
// failure was before a session could send; a failure later, or anything
// accepted, makes it a run of the server, not of its setup.
func TestNeverReady(t *testing.T) {
	refused := ErrorClass{Class: "connect refused", Phase: PhaseConnect, Count: 3, Example: " dial tcp: refused \n"}
	auth := ErrorClass{Class: "auth 535", Phase: PhaseAuth, Count: 1}
	rcpt := ErrorClass{Class: "rcpt 550", Phase: PhaseRcpt, Count: 1}
	for _, tc := range []struct {
		name string
		res  Result
		want bool
	}{
		{"setup failures only", Result{Errors: []ErrorClass{refused, auth}}, true},
		{"no failures", Result{}, false},
		{"something accepted", Result{Accepted: 1, Errors: []ErrorClass{refused}}, false},
		{"a failure after setup", Result{Errors: []ErrorClass{refused, rcpt}}, false},
	} {
		why, got := tc.res.NeverReady()
		if got != tc.want {
			t.Errorf("%s: %v (%q), want %v", tc.name, got, why, tc.want)
		}
	}
	if why, _ := (&Result{Errors: []ErrorClass{refused}}).NeverReady(); why != "3 × connect refused (first: dial tcp: refused)" {
		t.Errorf("why %q", why)
	}
}

// TestBreaches keeps the outcomes that did not meet their threshold.
func TestBreaches(t *testing.T) {
	got := Breaches([]Outcome{{Met: true, Message: "a"}, {Met: false, Message: "b"}})
	if len(got) != 1 || got[0].Message != "b" {
		t.Errorf("breaches %+v", got)
	}
}
