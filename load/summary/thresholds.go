package summary

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Threshold is a pass condition on a result, such as "p99<50ms": the run
// breaches it when the condition does not hold.
//
// The syntax is [PHASE.]METRIC OP VALUE:
//
//   - METRIC is a latency of PHASE (default transaction): pN (any
//     percentile, e.g. p50, p99, p99.9), min, mean or max, compared with a
//     duration (50ms, 1.5s, 200us; a bare number is milliseconds); or a
//     count of the whole run: rate (accepted messages per second), errors
//     (failed messages), error_rate (failed / sent, as 0.01 or 1%), late
//     (open-loop messages that could not start on time).
//   - PHASE is one of Phases, or transaction_uncorrected (open loop: the
//     transaction latency from when each message was sent, not due).
//   - OP is <, <=, > or >=.
type Threshold struct {
	// Expr is the expression as given.
	Expr string
	// Phase is the phase of a latency metric ("" for a count).
	Phase Phase
	// Metric is "p99.9", "min", "mean", "max", "rate", "errors",
	// "error_rate" or "late".
	Metric string
	// Op is "<", "<=", ">" or ">=".
	Op string
	// Value is the bound: milliseconds for latencies.
	Value float64
	// percentile is the percentile of a pN metric (0-100).
	percentile float64
}

// Breach is a threshold a result did not meet.
type Breach struct {
	Threshold Threshold
	// Actual is the measured value (milliseconds for latencies); NaN when
	// there was nothing to measure.
	Actual float64
	// Message says what was measured, e.g. "p99<50ms: transaction p99 is
	// 73.214ms".
	Message string
}

// ThresholdSyntax is a one-line reminder of the syntax, for help texts and
// error messages.
const ThresholdSyntax = "[PHASE.]METRIC OP VALUE, e.g. p99<50ms, mail.p99.9<=5ms, max<1s, mean<5ms, rate>1000, errors<10, error_rate<0.01"

var countMetrics = map[string]bool{"rate": true, "errors": true, "error_rate": true, "late": true}

// ParseThreshold parses one threshold expression.
func ParseThreshold(expr string) (Threshold, error) {
	t := Threshold{Expr: expr}
	s := strings.ReplaceAll(expr, " ", "")
	i := strings.IndexAny(s, "<>")
	if i <= 0 {
		return t, fmt.Errorf("threshold %q: want %s", expr, ThresholdSyntax)
	}
	left, rest := s[:i], s[i:]
	t.Op = rest[:1]
	if strings.HasPrefix(rest[1:], "=") {
		t.Op += "="
	}
	value := rest[len(t.Op):]
	if value == "" {
		return t, fmt.Errorf("threshold %q: no value", expr)
	}
	left = strings.ToLower(left)
	if prefix, metric, ok := strings.Cut(left, "."); ok && isPhase(Phase(prefix)) {
		t.Phase, left = Phase(prefix), metric
	}
	t.Metric = left
	switch {
	case countMetrics[left]:
		if t.Phase != "" {
			return t, fmt.Errorf("threshold %q: %s is a count of the whole run, not of a phase", expr, left)
		}
		v, err := parseCount(value, left == "error_rate")
		if err != nil {
			return t, fmt.Errorf("threshold %q: %v", expr, err)
		}
		t.Value = v
		return t, nil
	case left == "min" || left == "mean" || left == "max":
	case strings.HasPrefix(left, "p"):
		p, err := strconv.ParseFloat(left[1:], 64)
		if err != nil || p <= 0 || p > 100 || math.IsNaN(p) {
			return t, fmt.Errorf("threshold %q: percentile %q: want p1 to p100, e.g. p99.9", expr, left)
		}
		t.percentile = p
	default:
		return t, fmt.Errorf("threshold %q: unknown metric %q (want pN, min, mean, max, rate, errors, error_rate or late; phases: %s)", expr, left, phaseNames())
	}
	if t.Phase == "" {
		t.Phase = PhaseTransaction
	}
	ms, err := parseMillis(value)
	if err != nil {
		return t, fmt.Errorf("threshold %q: %v", expr, err)
	}
	t.Value = ms
	return t, nil
}

// ParseThresholds parses several expressions.
func ParseThresholds(exprs []string) ([]Threshold, error) {
	out := make([]Threshold, 0, len(exprs))
	for _, e := range exprs {
		t, err := ParseThreshold(e)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func isPhase(p Phase) bool {
	if p == uncorrectedKey {
		return true
	}
	for _, q := range Phases {
		if p == q {
			return true
		}
	}
	return false
}

func phaseNames() string {
	var names []string
	for _, p := range Phases {
		names = append(names, string(p))
	}
	return strings.Join(append(names, string(uncorrectedKey)), ", ")
}

// parseMillis reads a duration ("50ms", "1.5s", "200us") or a bare number
// of milliseconds.
func parseMillis(s string) (float64, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("bad value %q", s)
		}
		return v, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q (want e.g. 50ms, 1.5s, 200us)", s)
	}
	return float64(d) / float64(time.Millisecond), nil
}

// parseCount reads a number; with percent, "1%" is 0.01.
func parseCount(s string, percent bool) (float64, error) {
	scale := 1.0
	if percent && strings.HasSuffix(s, "%") {
		s, scale = strings.TrimSuffix(s, "%"), 0.01
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("bad value %q", s)
	}
	return v * scale, nil
}

// String is the normalised expression, e.g. "transaction.p99<50ms".
func (t Threshold) String() string {
	if countMetrics[t.Metric] {
		return t.Metric + t.Op + strconv.FormatFloat(t.Value, 'g', -1, 64)
	}
	return string(t.Phase) + "." + t.Metric + t.Op + formatMillis(t.Value)
}

func formatMillis(ms float64) string {
	return strconv.FormatFloat(ms, 'f', -1, 64) + "ms"
}

// holds reports whether actual satisfies the threshold.
func (t Threshold) holds(actual float64) bool {
	switch t.Op {
	case "<":
		return actual < t.Value
	case "<=":
		return actual <= t.Value
	case ">":
		return actual > t.Value
	case ">=":
		return actual >= t.Value
	}
	return false
}

// Measure returns the value the threshold judges in res (milliseconds for
// latencies) and whether there was anything to measure: a latency of a
// phase that recorded nothing cannot be judged.
func (t Threshold) Measure(res *Result) (float64, bool) {
	switch t.Metric {
	case "rate":
		return res.MsgsPS, true
	case "errors":
		return float64(res.Failed), true
	case "late":
		return float64(res.Late), true
	case "error_rate":
		if res.Sent == 0 {
			return 0, true
		}
		return float64(res.Failed) / float64(res.Sent), true
	}
	l := res.Phases[t.Phase]
	if t.Phase == uncorrectedKey {
		l = res.TransactionUncorrected
	}
	if l == nil || l.Count == 0 {
		return math.NaN(), false
	}
	switch t.Metric {
	case "min":
		return l.Min, true
	case "mean":
		return l.Mean, true
	case "max":
		return l.Max, true
	}
	// A reported percentile, else from the histogram.
	if v, ok := l.P[strconv.FormatFloat(t.percentile, 'f', -1, 64)]; ok {
		return v, true
	}
	h, err := hdrhistogram.Decode([]byte(l.Histogram))
	if err != nil || h.TotalCount() == 0 {
		return math.NaN(), false
	}
	return float64(h.ValueAtPercentile(t.percentile)) / 1000, true
}

// Outcome is a threshold judged against a result.
type Outcome struct {
	Threshold Threshold
	// Actual is the measured value (milliseconds for latencies); NaN when
	// there was nothing to measure.
	Actual float64
	Met    bool
	// Message says what was measured, e.g. "p99<50ms: transaction p99 is
	// 73.214ms".
	Message string
}

// Evaluate judges every threshold against res, in the order given. A
// latency of a phase that measured nothing is not met.
func Evaluate(res *Result, thresholds []Threshold) []Outcome {
	out := make([]Outcome, 0, len(thresholds))
	for _, t := range thresholds {
		actual, ok := t.Measure(res)
		o := Outcome{Threshold: t, Actual: actual}
		if ok {
			o.Met = t.holds(actual)
			o.Message = t.Expr + ": " + t.describe(actual)
		} else {
			o.Message = fmt.Sprintf("%s: no %s latency was measured", t.Expr, t.Phase)
		}
		out = append(out, o)
	}
	return out
}

// Check evaluates the thresholds against res and returns the breached
// ones, in the order given.
func Check(res *Result, thresholds []Threshold) []Breach {
	return Breaches(Evaluate(res, thresholds))
}

// Breaches returns the outcomes that did not meet their threshold.
func Breaches(outcomes []Outcome) []Breach {
	var out []Breach
	for _, o := range outcomes {
		if !o.Met {
			out = append(out, Breach{Threshold: o.Threshold, Actual: o.Actual, Message: o.Message})
		}
	}
	return out
}

// describe says what was measured, e.g. "transaction p99 is 73.214ms".
func (t Threshold) describe(actual float64) string {
	switch t.Metric {
	case "rate":
		return fmt.Sprintf("rate is %.1f accepted msgs/s", actual)
	case "errors":
		return fmt.Sprintf("%.0f messages failed", actual)
	case "late":
		return fmt.Sprintf("%.0f messages started late", actual)
	case "error_rate":
		return fmt.Sprintf("error rate is %.4g (%.2f%%)", actual, actual*100)
	}
	return fmt.Sprintf("%s %s is %sms", t.Phase, t.Metric, strconv.FormatFloat(actual, 'f', 3, 64))
}
