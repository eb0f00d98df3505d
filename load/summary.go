package load

import (
	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mailcheck/mailcheck/load/summary"
)

// The result model lives in the leaf package load/summary, so that what
// reads results does not import the generator; these names keep this
// package's callers compiling.
type (
	Result     = summary.Result
	Latency    = summary.Latency
	Settings   = summary.Settings
	Phase      = summary.Phase
	ErrorClass = summary.ErrorClass
	Second     = summary.Second
	Threshold  = summary.Threshold
	Breach     = summary.Breach
	Outcome    = summary.Outcome
)

// Kind and version of the JSON result (summary.ResultKind, …).
const (
	ResultKind    = summary.ResultKind
	ResultVersion = summary.ResultVersion
)

// The phases (summary.PhaseConnect, …).
const (
	PhaseConnect     = summary.PhaseConnect
	PhaseGreeting    = summary.PhaseGreeting
	PhaseEHLO        = summary.PhaseEHLO
	PhaseSTARTTLS    = summary.PhaseSTARTTLS
	PhaseAuth        = summary.PhaseAuth
	PhaseMail        = summary.PhaseMail
	PhaseRcpt        = summary.PhaseRcpt
	PhaseData        = summary.PhaseData
	PhaseEndOfData   = summary.PhaseEndOfData
	PhaseTransaction = summary.PhaseTransaction
)

// ThresholdSyntax is summary.ThresholdSyntax.
const ThresholdSyntax = summary.ThresholdSyntax

// Phases and Percentiles are summary's.
var (
	Phases      = summary.Phases
	Percentiles = summary.Percentiles
)

// Merge is summary.Merge.
func Merge(parts []*Result) (*Result, error) { return summary.Merge(parts) }

// ParseThreshold is summary.ParseThreshold.
func ParseThreshold(expr string) (Threshold, error) { return summary.ParseThreshold(expr) }

// ParseThresholds is summary.ParseThresholds.
func ParseThresholds(exprs []string) ([]Threshold, error) { return summary.ParseThresholds(exprs) }

// Evaluate is summary.Evaluate.
func Evaluate(res *Result, thresholds []Threshold) []Outcome {
	return summary.Evaluate(res, thresholds)
}

// Check is summary.Check.
func Check(res *Result, thresholds []Threshold) []Breach { return summary.Check(res, thresholds) }

// histHighest bounds what a histogram records.
const histHighest = summary.HistogramHighest

func newHistogram() *hdrhistogram.Histogram { return summary.NewHistogram() }

func summarize(h *hdrhistogram.Histogram) *Latency { return summary.Summarize(h) }
