// Package summary is the load result model: what `mailcheck load --json`
// writes and `mailcheck report` reads (Result, stable per ResultVersion),
// with the latency of each phase summarised from its HdrHistogram, the
// errors by class and the per-second series; Merge combines the results of
// a distributed run's segments, and Threshold judges a result (--threshold).
//
// It is a leaf package: it imports no server and not the generator, so
// that what reads or renders results (package reports) depends on the
// model alone. Package load runs the generator and fills it in, and keeps
// aliases of these names.
package summary

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// ResultKind identifies a load result among the JSON files `mailcheck
// report` reads; ResultVersion changes only when a field changes meaning.
const (
	ResultKind    = "mailcheck.load"
	ResultVersion = 1
)

// Percentiles reported for each phase (HdrHistogram takes 0-100).
var Percentiles = []float64{50, 90, 99, 99.9, 99.99}

// Latency summarises one phase, in milliseconds.
type Latency struct {
	Count int64              `json:"count"`
	Min   float64            `json:"min_ms"`
	Mean  float64            `json:"mean_ms"`
	Max   float64            `json:"max_ms"`
	P     map[string]float64 `json:"percentiles_ms"` // "50", "90", "99", "99.9", "99.99"
	// Histogram is the phase's HdrHistogram (µs), V2-compressed and base64,
	// so results of several generators merge exactly.
	Histogram string `json:"histogram"`
}

// Settings echo the options of a run.
type Settings struct {
	Target             string  `json:"target"`
	Sessions           int     `json:"sessions"`
	Rate               float64 `json:"rate,omitempty"`
	Messages           int64   `json:"messages,omitempty"`
	DurationS          float64 `json:"duration_s,omitempty"`
	MessagesPerSession int     `json:"messages_per_session,omitempty"`
	RampS              float64 `json:"ramp_s,omitempty"`
	Pipelining         string  `json:"pipelining"`
	SizeMin            int     `json:"size_min"`
	SizeMax            int     `json:"size_max"`
	Rcpts              int     `json:"rcpts"`
	Segment            int     `json:"segment"`
	Segments           int     `json:"segments"`
	Model              string  `json:"model"` // "closed" or "open"
}

// Result is the documented outcome of a run (ResultVersion).
type Result struct {
	Kind     string    `json:"kind"`
	Version  int       `json:"version"`
	Tool     string    `json:"tool"`
	Settings Settings  `json:"settings"`
	Started  time.Time `json:"started"`
	Elapsed  float64   `json:"elapsed_s"`
	// Active is from the start to the last accepted message: the interval
	// msgs_per_s and mb_per_s are computed over, so the drain after
	// --duration (sessions finishing and saying QUIT) does not dilute them.
	Active float64 `json:"active_s"`
	// Started messages, accepted (250 after DATA) and failed ones.
	Sent     int64 `json:"sent"`
	Accepted int64 `json:"accepted"`
	Failed   int64 `json:"failed"`
	// Late counts open-loop messages that could not start on time (no
	// session was free when they were due).
	Late   int64   `json:"late"`
	MsgsPS float64 `json:"msgs_per_s"`
	MBPS   float64 `json:"mb_per_s"`
	Bytes  int64   `json:"bytes"`
	// Phases: latency per phase. In open loop "transaction" is measured
	// from when each message was due (corrected for coordinated omission);
	// TransactionUncorrected is from when it was sent.
	Phases                 map[Phase]*Latency `json:"phases"`
	TransactionUncorrected *Latency           `json:"transaction_uncorrected"`
	Errors                 []ErrorClass       `json:"errors"`
	Series                 []Second           `json:"series"`
}

// Finish computes the rates from the counts.
func (res *Result) Finish() {
	over := res.Active
	if over <= 0 {
		over = res.Elapsed
	}
	if over > 0 {
		res.MsgsPS = float64(res.Accepted) / over
		res.MBPS = float64(res.Bytes) / over / 1e6
	}
	if res.Errors == nil {
		res.Errors = []ErrorClass{}
	}
}

// Summarize summarises a phase's histogram (microseconds).
func Summarize(h *hdrhistogram.Histogram) *Latency {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	l := &Latency{Count: h.TotalCount(), Min: ms(h.Min()), Mean: h.Mean() / 1000, Max: ms(h.Max()), P: map[string]float64{}}
	for _, p := range Percentiles {
		l.P[fmt.Sprint(p)] = ms(h.ValueAtPercentile(p))
	}
	if enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err == nil {
		l.Histogram = string(enc)
	}
	return l
}

// Merge combines the results of the segments of one distributed run into
// one: counts add up, histograms merge exactly, the series add second by
// second, and the elapsed time is the longest segment's. The settings are
// the whole run's: the segments' sessions, rates and messages add up.
func Merge(parts []*Result) (*Result, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("load: nothing to merge")
	}
	out := *parts[0]
	out.Phases = map[Phase]*Latency{}
	out.Errors = nil
	out.Series = nil
	out.Sent, out.Accepted, out.Failed, out.Late, out.Bytes, out.Elapsed = 0, 0, 0, 0, 0, 0
	out.Settings.Sessions, out.Settings.Rate, out.Settings.Messages = 0, 0, 0
	hists := map[Phase]*hdrhistogram.Histogram{}
	errs := map[string]*ErrorClass{}
	series := map[int]*Second{}
	for _, p := range parts {
		if p.Kind != ResultKind {
			return nil, fmt.Errorf("load: cannot merge a %q result", p.Kind)
		}
		out.Settings.Sessions += p.Settings.Sessions
		out.Settings.Rate += p.Settings.Rate
		out.Settings.Messages += p.Settings.Messages
		out.Sent += p.Sent
		out.Accepted += p.Accepted
		out.Failed += p.Failed
		out.Late += p.Late
		out.Bytes += p.Bytes
		out.Elapsed = max(out.Elapsed, p.Elapsed)
		out.Active = max(out.Active, p.Active)
		if p.Started.Before(out.Started) {
			out.Started = p.Started
		}
		for phase, l := range p.Phases {
			if err := mergeInto(hists, phase, l); err != nil {
				return nil, err
			}
		}
		if p.TransactionUncorrected != nil {
			if err := mergeInto(hists, uncorrectedKey, p.TransactionUncorrected); err != nil {
				return nil, err
			}
		}
		for _, e := range p.Errors {
			if c := errs[e.Class]; c != nil {
				c.Count += e.Count
			} else {
				e := e
				errs[e.Class] = &e
			}
		}
		for _, s := range p.Series {
			if c := series[s.T]; c != nil {
				c.Started += s.Started
				c.Accepted += s.Accepted
				c.Failed += s.Failed
				c.Bytes += s.Bytes
			} else {
				s := s
				series[s.T] = &s
			}
		}
	}
	for phase, h := range hists {
		if phase == uncorrectedKey {
			out.TransactionUncorrected = Summarize(h)
		} else {
			out.Phases[phase] = Summarize(h)
		}
	}
	for _, e := range errs {
		out.Errors = append(out.Errors, *e)
	}
	for _, s := range series {
		out.Series = append(out.Series, *s)
	}
	slices.SortFunc(out.Series, func(a, b Second) int { return a.T - b.T })
	slices.SortFunc(out.Errors, func(a, b ErrorClass) int {
		// Most frequent first; equal counts by class, so that the same
		// segments always merge into the same bytes.
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Class, b.Class))
	})
	out.Settings.Segment, out.Settings.Segments = 0, len(parts)
	out.Finish()
	return &out, nil
}

// uncorrectedKey keys the uncorrected transaction histogram while merging.
const uncorrectedKey Phase = "transaction_uncorrected"

func mergeInto(hists map[Phase]*hdrhistogram.Histogram, phase Phase, l *Latency) error {
	h, err := hdrhistogram.Decode([]byte(l.Histogram))
	if err != nil {
		return fmt.Errorf("load: %s histogram: %w", phase, err)
	}
	if hists[phase] == nil {
		hists[phase] = NewHistogram()
	}
	hists[phase].Merge(h)
	return nil
}

// ErrorClass counts failures of one kind, with the first example.
type ErrorClass struct {
	Class   string `json:"class"`
	Phase   Phase  `json:"phase"`
	Count   int64  `json:"count"`
	Example string `json:"example"`
}

// Second is one second of the per-second series.
type Second struct {
	T        int   `json:"t"` // seconds since the start
	Started  int64 `json:"started"`
	Accepted int64 `json:"accepted"`
	Failed   int64 `json:"failed"`
	Bytes    int64 `json:"bytes"`
}
