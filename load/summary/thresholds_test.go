package summary

import (
	"math"
	"strings"
	"testing"
)

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		expr          string
		phase         Phase
		metric, op    string
		value         float64
		normalisedStr string
	}{
		{"p99<50ms", PhaseTransaction, "p99", "<", 50, "transaction.p99<50ms"},
		{"p99.9<=200ms", PhaseTransaction, "p99.9", "<=", 200, "transaction.p99.9<=200ms"},
		{"max<1s", PhaseTransaction, "max", "<", 1000, "transaction.max<1000ms"},
		{"mean < 5ms", PhaseTransaction, "mean", "<", 5, "transaction.mean<5ms"},
		{"min>=200us", PhaseTransaction, "min", ">=", 0.2, "transaction.min>=0.2ms"},
		{"p50<7", PhaseTransaction, "p50", "<", 7, "transaction.p50<7ms"},
		{"mail.p99<5ms", PhaseMail, "p99", "<", 5, "mail.p99<5ms"},
		{"end_of_data.p99.99<1.5s", PhaseEndOfData, "p99.99", "<", 1500, "end_of_data.p99.99<1500ms"},
		{"transaction_uncorrected.p99<10ms", uncorrectedKey, "p99", "<", 10, "transaction_uncorrected.p99<10ms"},
		{"rate>1000", "", "rate", ">", 1000, "rate>1000"},
		{"errors<10", "", "errors", "<", 10, "errors<10"},
		{"error_rate<0.01", "", "error_rate", "<", 0.01, "error_rate<0.01"},
		{"error_rate<1%", "", "error_rate", "<", 0.01, "error_rate<0.01"},
		{"late<=0", "", "late", "<=", 0, "late<=0"},
	}
	for _, tc := range tests {
		th, err := ParseThreshold(tc.expr)
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		if th.Phase != tc.phase || th.Metric != tc.metric || th.Op != tc.op || math.Abs(th.Value-tc.value) > 1e-9 {
			t.Errorf("%q: got %+v", tc.expr, th)
		}
		if s := th.String(); s != tc.normalisedStr {
			t.Errorf("%q: String %q, want %q", tc.expr, s, tc.normalisedStr)
		}
	}
}

func TestParseThresholdErrors(t *testing.T) {
	for _, expr := range []string{
		"", "p99", "<50ms", "p99<", "p99=50ms", "p99<fast", "p99<-5ms", "p0<1ms", "p101<1ms", "px<1ms",
		"median<1ms", "nosuch.p99<1ms", "mail.rate>10", "rate>lots", "errors<-1", "p99<<5ms",
	} {
		if th, err := ParseThreshold(expr); err == nil {
			t.Errorf("%q accepted: %+v", expr, th)
		}
	}
	if _, err := ParseThresholds([]string{"p99<1ms", "bad"}); err == nil {
		t.Error("ParseThresholds accepted a bad expression")
	}
}

// sampleResult has a transaction histogram of 1..1000 ms (one each) and a
// mail phase of 2 ms.
func sampleResult() *Result {
	tx := NewHistogram()
	for ms := int64(1); ms <= 1000; ms++ {
		tx.RecordValue(ms * 1000)
	}
	mail := NewHistogram()
	mail.RecordValue(2000)
	return &Result{
		Kind: ResultKind, Sent: 1010, Accepted: 1000, Failed: 10, Late: 3, Elapsed: 2, MsgsPS: 500,
		Phases: map[Phase]*Latency{PhaseTransaction: Summarize(tx), PhaseMail: Summarize(mail)},
	}
}

func TestCheckThresholds(t *testing.T) {
	res := sampleResult()
	pass := []string{
		"p50<=501ms", "p99<1s", "p99.9<=1001ms", "p95<960ms", "max<=1001ms", "min<2ms", "mean<501ms", "mean>499ms",
		"mail.p99<3ms", "mail.max<2.1ms", "rate>=500", "rate<501", "errors<=10", "errors<11",
		"error_rate<0.01", "error_rate<=1%", "late<4",
	}
	fail := []string{
		"p50<400ms", "p99<900ms", "p95<900ms", "max<1s", "min>1ms", "mean<100ms",
		"mail.p99<1ms", "rate>1000", "errors<10", "errors<5", "error_rate<0.009", "late<3",
		"starttls.p99<1s", // never measured: cannot pass
	}
	for _, e := range pass {
		th, err := ParseThreshold(e)
		if err != nil {
			t.Fatal(err)
		}
		if b := Check(res, []Threshold{th}); len(b) != 0 {
			t.Errorf("%q breached: %s", e, b[0].Message)
		}
	}
	for _, e := range fail {
		th, err := ParseThreshold(e)
		if err != nil {
			t.Fatal(err)
		}
		b := Check(res, []Threshold{th})
		if len(b) != 1 {
			t.Errorf("%q not breached", e)
			continue
		}
		if !strings.HasPrefix(b[0].Message, e+": ") {
			t.Errorf("%q: message %q", e, b[0].Message)
		}
	}
	ths, _ := ParseThresholds([]string{"p99<900ms", "rate>1", "errors<1"})
	b := Check(res, ths)
	if len(b) != 2 || b[0].Threshold.Expr != "p99<900ms" || b[1].Threshold.Expr != "errors<1" {
		t.Errorf("breaches %+v", b)
	}
	if !strings.Contains(b[0].Message, "transaction p99 is 990") {
		t.Errorf("message %q", b[0].Message)
	}
	if b := Check(&Result{Kind: ResultKind}, ths[2:]); len(b) != 0 {
		t.Errorf("empty result: %+v", b)
	}
}
