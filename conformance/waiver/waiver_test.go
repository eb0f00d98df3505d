package waiver

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/conformance/verdict"
)

func TestParse(t *testing.T) {
	file := `# waivers for mx1
smtp.data.bare-lf-dot  target=smtp://mx1.example.net:*  expires=2027-03-31  vendor ticket 4411: fixed in 3.2

   imap.uid.*	legacy store, UIDs = rebuilt on restart   # not a comment
pop3.* expires=2026-12-31 target=*.example.net  maildrop lock
`
	got, err := Parse(strings.NewReader(file), "w.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := []Waiver{
		{Source: "w.txt:2", Check: "smtp.data.bare-lf-dot", Target: "smtp://mx1.example.net:*", Expires: time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC), Reason: "vendor ticket 4411: fixed in 3.2"},
		{Source: "w.txt:4", Check: "imap.uid.*", Reason: "legacy store, UIDs = rebuilt on restart # not a comment"},
		{Source: "w.txt:5", Check: "pop3.*", Target: "*.example.net", Expires: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), Reason: "maildrop lock"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d waivers, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("waiver %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	cases := map[string]string{
		"smtp.x":                                         "no reason",
		"smtp.x target=h expires=2027-01-01":             "no reason",
		"smtp.[x reason":                                 "check ID glob",
		"smtp.x target=[h reason":                        "target glob",
		"smtp.x target= reason":                          "empty target glob",
		"smtp.x expires=2027-13-01 reason":               "want a date YYYY-MM-DD",
		"smtp.x expires=31.12.2027 reason":               "want a date YYYY-MM-DD",
		"smtp.x expire=2027-01-01 reason":                `unknown option "expire="`,
		"smtp.x target=a target=b reason":                "target= given twice",
		"smtp.x expires=2027-01-01 expires=2027-01-02 r": "expires= given twice",
		"target=h smtp.x reason":                         "starts with the check ID glob",
	}
	for line, want := range cases {
		_, err := Parse(strings.NewReader("# header\n\n"+line+"\n"), "w.txt")
		if err == nil || !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "w.txt:3: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want ErrSyntax at w.txt:3 saying %q", line, err, want)
		}
	}
}

func TestMatches(t *testing.T) {
	cases := []struct {
		check, target, id, resultTarget string
		want                            bool
	}{
		{"smtp.data.*", "", "smtp.data.bare-lf-dot", "smtp://mx:25", true},
		{"smtp.data.*", "", "smtp.auth.success", "smtp://mx:25", false},
		{"*", "", "pop3.noop.ok", "pop3://h:110", true},
		{"smtp.auth.success", "smtp://mx1.example.net:*", "smtp.auth.success", "smtp://mx1.example.net:587", true},
		{"smtp.auth.success", "smtp://mx1.example.net:*", "smtp.auth.success", "smtp://mx2.example.net:587", false},
		{"smtp.*", "mx1.example.net:25", "smtp.x", "smtp://mx1.example.net:25", true}, // host:port
		{"smtp.*", "mx1.example.net", "smtp.x", "smtp://mx1.example.net:25", true},    // host
		{"smtp.*", "*.example.net", "smtp.x", "smtps://mx1.example.net:465", true},
		{"smtp.*", "*", "smtp.x", "smtp://[::1]:25", true},
		{"smtp.*", "::1", "smtp.x", "smtp://[::1]:25", true},
		{"smtp.*", "smtp://*", "smtp.x", "smtps://h:465", false},
	}
	for _, c := range cases {
		w := Waiver{Check: c.check, Target: c.target}
		if got := w.Matches(c.id, c.resultTarget); got != c.want {
			t.Errorf("waiver %q target=%q on %s at %s: %v, want %v", c.check, c.target, c.id, c.resultTarget, got, c.want)
		}
	}
}

func TestExpiredAtTheEndOfTheDayUTC(t *testing.T) {
	w := Waiver{Expires: time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)}
	for _, c := range []struct {
		now  time.Time
		want bool
	}{
		{time.Date(2027, 3, 30, 12, 0, 0, 0, time.UTC), false},
		{time.Date(2027, 3, 31, 23, 59, 59, 0, time.UTC), false},
		{time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), true},
		// 2027-03-31 20:00 in New York is 2027-04-01 00:00 UTC.
		{time.Date(2027, 3, 31, 20, 0, 0, 0, time.FixedZone("EDT", -4*3600)), true},
	} {
		if got := w.Expired(c.now); got != c.want {
			t.Errorf("expired at %v: %v, want %v", c.now, got, c.want)
		}
	}
	if (Waiver{}).Expired(time.Now()) {
		t.Error("a waiver without expiry expired")
	}
}

func sample() *verdict.Report {
	res := func(id, target string, s verdict.Status) verdict.Result {
		return verdict.Result{ID: id, Target: target, Status: s, Message: "evidence of " + id}
	}
	return &verdict.Report{
		Summary: map[verdict.Status]int{},
		Checks: []verdict.Result{
			res("smtp.data.bare-lf-dot", "smtp://mx1:25", verdict.Fail),
			res("smtp.data.bare-lf-dot", "smtp://mx2:25", verdict.Fail),
			res("smtp.ehlo.keywords", "smtp://mx1:25", verdict.Warn),
			res("smtp.auth.success", "smtp://mx1:25", verdict.Error),
			res("smtp.noop.ok", "smtp://mx1:25", verdict.Pass),
			res("imap.uid.below-uidnext", "imap://mx1:143", verdict.Fail),
		},
	}
}

func TestApply(t *testing.T) {
	now := time.Date(2027, 1, 15, 10, 0, 0, 0, time.UTC)
	waivers, err := Parse(strings.NewReader(`
smtp.data.* target=mx1 known bare-LF bug
smtp.data.bare-lf-dot also covered
smtp.ehlo.keywords expires=2027-01-15 last day today
smtp.auth.success expires=2027-01-14 expired yesterday
imap.uid.below-uidnext expires=2027-01-01 expired, and a later one applies
imap.uid.* broad
smtp.noop.ok passes: nothing to waive
pop3.* no POP3 target in this run
`), "w")
	if err != nil {
		t.Fatal(err)
	}
	r := sample()
	Apply(r, waivers, now, false)

	type want struct {
		status, was verdict.Status
		source      string
		expired     bool
	}
	wants := []want{
		{verdict.Waived, verdict.Fail, "w:2", false}, // first matching waiver
		{verdict.Waived, verdict.Fail, "w:3", false}, // target=mx1 does not cover mx2
		{verdict.Waived, verdict.Warn, "w:4", false}, // its last day
		{verdict.Error, "", "w:5", true},             // expired: stays error, says so
		{verdict.Pass, "", "", false},                // a pass is not waived
		{verdict.Waived, verdict.Fail, "w:7", false}, // the expired one is skipped
	}
	for i, w := range wants {
		c := r.Checks[i]
		source, expired := "", false
		if c.Waiver != nil {
			source, expired = c.Waiver.Source, c.Waiver.Expired
		}
		if c.Status != w.status || c.WaivedStatus != w.was || source != w.source || expired != w.expired {
			t.Errorf("%s at %s: status %s (was %q), waiver %q expired %v; want %s (was %q), waiver %q expired %v",
				c.ID, c.Target, c.Status, c.WaivedStatus, source, expired, w.status, w.was, w.source, w.expired)
		}
		if c.Message != "evidence of "+c.ID {
			t.Errorf("%s: the message changed: %q", c.ID, c.Message)
		}
	}
	if r.Checks[0].Waiver.Reason != "known bare-LF bug" {
		t.Errorf("reason %q", r.Checks[0].Waiver.Reason)
	}

	records := map[string]verdict.WaiverRecord{}
	for _, w := range r.Waivers {
		records[w.Source] = w
	}
	for source, w := range map[string]struct {
		waived         int
		stale, expired bool
	}{
		"w:2": {1, false, false}, "w:3": {1, false, false}, "w:4": {1, false, false},
		"w:5": {0, false, true}, // matched an error, expired: the error stands
		"w:6": {0, false, true}, "w:7": {1, false, false},
		"w:8": {0, true, false}, // covers a pass only
		"w:9": {0, true, false}, // covers no check of the run
	} {
		got := records[source]
		if got.Waived != w.waived || got.Stale != w.stale || got.Expired != w.expired {
			t.Errorf("waiver %s: waived %d stale %v expired %v; want %d %v %v", source, got.Waived, got.Stale, got.Expired, w.waived, w.stale, w.expired)
		}
	}
	if len(r.Waivers) != len(waivers) {
		t.Errorf("%d waiver records for %d waivers", len(r.Waivers), len(waivers))
	}
	if r.Summary[verdict.Waived] != 4 || r.Summary[verdict.Error] != 1 || r.Summary[verdict.Pass] != 1 || r.Summary[verdict.Fail] != 0 {
		t.Errorf("summary %v", r.Summary)
	}
}

func TestStaleWaiversFailOnlyWhenStrict(t *testing.T) {
	waivers, err := Parse(strings.NewReader("smtp.data.* target=mx1 known\nsmtp.data.* target=mx2 known\nsmtp.ehlo.* warn\nsmtp.auth.* error\nimap.* imap\n"), "w")
	if err != nil {
		t.Fatal(err)
	}
	r := sample()
	Apply(r, waivers, time.Now(), false)
	if r.Failed(verdict.FailOnShould) || len(r.StaleWaivers()) != 0 {
		t.Fatalf("every failure waived, no waiver stale: failed %v, stale %v", r.Failed(verdict.FailOnShould), r.StaleWaivers())
	}

	waivers = append(waivers, Waiver{Source: "w:9", Check: "pop3.*", Reason: "gone"})
	for _, strict := range []bool{false, true} {
		r := sample()
		Apply(r, waivers, time.Now(), strict)
		if stale := r.StaleWaivers(); len(stale) != 1 || stale[0].Source != "w:9" {
			t.Errorf("stale %+v, want w:9", stale)
		}
		if r.Failed(verdict.FailOnMust) != strict {
			t.Errorf("strict %v: the run fails %v", strict, !strict)
		}
	}
}
