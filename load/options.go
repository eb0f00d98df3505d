// Package load drives persistent SMTP sessions against a server and
// measures throughput and latency: closed loop (each session sends as fast
// as replies come) or open loop (a global rate, with latency measured from
// when each message was due, so a stalled server cannot hide behind
// coordinated omission). Latencies go into HdrHistograms per phase.
//
// What a run yields is the result model of package load/summary (Result,
// aliased here), which imports neither this generator nor any server; the
// server to load is a target.Target.
package load

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/mailcheck/mailcheck/target"
)

// Pipelining says whether MAIL, RCPT and DATA go out in one write
// (RFC 2920).
type Pipelining string

// Pipelining modes.
const (
	PipeliningAuto Pipelining = "auto" // when the server advertises it
	PipeliningOn   Pipelining = "on"
	PipeliningOff  Pipelining = "off"
)

// Options configure a run. Zero values are defaults where stated.
type Options struct {
	// Target is the SMTP server (smtp:// or smtps://).
	Target target.Target
	// Sessions is the number of concurrent persistent sessions. Default 1.
	Sessions int
	// Rate, when above zero, is the open-loop rate in messages per second
	// across all sessions; zero means closed loop.
	Rate float64
	// Messages stops the run after this many messages were started (0: no
	// limit). Duration stops it after this long (0: no limit). At least
	// one of them, or a cancelled context, ends the run.
	Messages int64
	Duration time.Duration
	// MessagesPerSession reconnects a session after this many messages;
	// 0 keeps each connection for the whole run.
	MessagesPerSession int
	// Ramp raises the load over this long: sessions start gradually
	// (closed loop) or the rate climbs from zero (open loop).
	Ramp time.Duration
	// Pipelining: auto (default), on or off.
	Pipelining Pipelining
	// Size of each message in octets: a fixed size or a uniform range.
	Size SizeSpec
	// Rcpts is the number of recipients per message. Default 1.
	Rcpts int
	// From is the reverse-path. Default "load@mailcheck.invalid".
	From string
	// To is the recipient template; "{a-b}" spreads recipients over a..b
	// round-robin, e.g. "user{1-100}@example.test". Required.
	To string
	// StartTLS: "auto" (default: when offered), "on" (required) or "off".
	StartTLS string
	// TLS is the client TLS configuration (verification, CA pool).
	TLS *tls.Config
	// User and Password authenticate with AUTH PLAIN after EHLO (and
	// STARTTLS), when set.
	User, Password string
	// MaxErrors stops the run after this many failed messages or sessions
	// (0: no limit).
	MaxErrors int64
	// Timeout bounds each wait for the server. Default 30s.
	Timeout time.Duration
	// Segment and Segments split one run over several generators: this one
	// is segment Segment of Segments (1-based) and takes that share of the
	// rate and of the messages. Default 1 of 1.
	Segment, Segments int
	// ClientName is the EHLO name. Default "load.mailcheck.test".
	ClientName string

	// nothing is set when this segment's share of Messages is zero.
	nothing bool
}

// defaultTimeout is Options.Timeout when zero.
const defaultTimeout = 30 * time.Second

// SizeSpec is a message size: Min == Max for a fixed size.
type SizeSpec struct {
	Min, Max int
}

func (o Options) withDefaults() (Options, error) {
	if o.Sessions <= 0 {
		o.Sessions = 1
	}
	if o.Rcpts <= 0 {
		o.Rcpts = 1
	}
	if o.From == "" {
		o.From = "load@mailcheck.invalid"
	}
	if o.Pipelining == "" {
		o.Pipelining = PipeliningAuto
	}
	if o.StartTLS == "" {
		o.StartTLS = "auto"
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.Size.Min <= 0 {
		o.Size = SizeSpec{1024, 1024}
	}
	if o.Size.Max < o.Size.Min {
		o.Size.Max = o.Size.Min
	}
	if o.Segments <= 0 {
		o.Segment, o.Segments = 1, 1
	}
	if o.ClientName == "" {
		o.ClientName = "load.mailcheck.test"
	}
	switch {
	case o.To == "":
		return o, errors.New("load: no recipient (To)")
	case o.Segment < 1 || o.Segment > o.Segments:
		return o, fmt.Errorf("load: segment %d of %d", o.Segment, o.Segments)
	case o.Target.Protocol != "smtp":
		return o, fmt.Errorf("load: target %s is not SMTP", o.Target.Raw)
	case o.Pipelining != PipeliningAuto && o.Pipelining != PipeliningOn && o.Pipelining != PipeliningOff:
		return o, fmt.Errorf("load: pipelining %q: want auto, on or off", o.Pipelining)
	}
	// This generator's share of a segmented run (§ "past one machine").
	if o.Segments > 1 {
		o.Rate /= float64(o.Segments)
		if o.Messages > 0 {
			share := o.SegmentShare()
			o.Messages, o.nothing = share, share == 0
		}
	}
	return o, nil
}
