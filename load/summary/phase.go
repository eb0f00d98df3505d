package summary

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Phase is a measured step of an SMTP session.
type Phase string

// The phases, in protocol order. PhaseTransaction is MAIL to the final 250.
const (
	PhaseConnect     Phase = "connect"
	PhaseGreeting    Phase = "greeting"
	PhaseEHLO        Phase = "ehlo"
	PhaseSTARTTLS    Phase = "starttls"
	PhaseAuth        Phase = "auth"
	PhaseMail        Phase = "mail"
	PhaseRcpt        Phase = "rcpt"
	PhaseData        Phase = "data"
	PhaseEndOfData   Phase = "end_of_data"
	PhaseTransaction Phase = "transaction"
)

// Phases lists the phases in order.
var Phases = []Phase{PhaseConnect, PhaseGreeting, PhaseEHLO, PhaseSTARTTLS, PhaseAuth, PhaseMail, PhaseRcpt, PhaseData, PhaseEndOfData, PhaseTransaction}

// Histograms hold microseconds from 1 µs to HistogramHighest (one hour)
// with three significant digits, the HdrHistogram norm.
const (
	histLowest       = 1
	HistogramHighest = int64(time.Hour / time.Microsecond)
	histDigits       = 3
)

// NewHistogram returns an empty histogram of a phase's latencies, in
// microseconds: what Summarize reads and Merge merges.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, HistogramHighest, histDigits)
}
