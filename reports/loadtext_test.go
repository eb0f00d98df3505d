package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/load/summary"
)

func sampleLoadResult(model string) *summary.Result {
	lat := func(base float64) *summary.Latency {
		return &summary.Latency{Count: 1000, Min: base / 2, Mean: base, Max: base * 20,
			P: map[string]float64{"50": base, "90": base * 2, "99": base * 5, "99.9": base * 10, "99.99": base * 15}}
	}
	r := &summary.Result{
		Kind: summary.ResultKind, Version: summary.ResultVersion, Tool: "test",
		Settings: summary.Settings{Target: "smtp://127.0.0.1:2525", Sessions: 8, Messages: 1010, Pipelining: "auto",
			SizeMin: 1024, SizeMax: 10240, Rcpts: 1, Segment: 1, Segments: 2, Model: model},
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Elapsed: 2,
		Sent: 1010, Accepted: 1000, Failed: 10, MsgsPS: 500, MBPS: 2.5, Bytes: 5e6,
		Phases: map[summary.Phase]*summary.Latency{summary.PhaseConnect: lat(0.1), summary.PhaseMail: lat(0.5), summary.PhaseTransaction: lat(3)},
		Errors: []summary.ErrorClass{{Class: "rcpt reply 452 4.2.2", Phase: summary.PhaseRcpt, Count: 10, Example: "452 4.2.2 mailbox full\r\n"}},
	}
	if model == "open" {
		r.Settings.Rate = 500
		r.Late = 4
		r.TransactionUncorrected = lat(1.5)
	}
	return r
}

func TestLoadText(t *testing.T) {
	var b bytes.Buffer
	if err := WriteLoadText(&b, sampleLoadResult("closed")); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"mailcheck load smtp://127.0.0.1:2525  (segment 1/2)", "closed loop, 8 sessions, 1010 messages",
		"1024-10240 octets", "sent 1010  accepted 1000  failed 10", "500.0 msgs/s  2.50 MB/s",
		"p99.99", "transaction", "15.00", "60.00", "rcpt reply 452 4.2.2", "first: 452 4.2.2 mailbox full",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "uncorrected") || strings.Contains(out, "  late ") {
		t.Errorf("closed loop shows open-loop figures:\n%s", out)
	}

	b.Reset()
	WriteLoadText(&b, sampleLoadResult("open"))
	out = b.String()
	for _, want := range []string{"open loop at 500 msgs/s", "late 4", "transaction (corrected)", "transaction (uncorrected)", "corrected  uncorrected"} {
		if !strings.Contains(out, want) {
			t.Errorf("open loop lacks %q:\n%s", want, out)
		}
	}
}

func TestLoadJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteLoadJSON(&b, sampleLoadResult("open")); err != nil {
		t.Fatal(err)
	}
	var back summary.Result
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Kind != summary.ResultKind || back.Accepted != 1000 || back.Phases[summary.PhaseTransaction].P["99.9"] != 30 {
		t.Errorf("round trip: %+v", back)
	}
	if !strings.Contains(b.String(), "\n  \"kind\": \"mailcheck.load\"") {
		t.Errorf("not indented:\n%s", b.String())
	}
}
