package load

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mailcheck/mailcheck/internal/smtptest"
	"github.com/mailcheck/mailcheck/target"
)

// These tests run the generator against scripted servers on loopback.
// Their pass/fail never depends on how fast the machine is, except for
// generous bounds that prove a run never hangs.

func targetOf(t testing.TB, addr string) target.Target {
	t.Helper()
	tg, err := target.ParseTarget("smtp://"+addr, "")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// runBounded runs the generator and fails the test if the run takes
// longer than bound: it must end by itself, on time.
func runBounded(t *testing.T, o Options, bound time.Duration, progress func(Progress), hdrLog func(*hdrhistogram.Histogram)) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*bound+10*time.Second) // a safety net only
	defer cancel()
	t0 := time.Now()
	res, err := Run(ctx, o, progress, hdrLog)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(t0); took > bound {
		t.Errorf("the run took %v, more than %v", took.Round(time.Millisecond), bound)
	}
	if res.Sent != res.Accepted+res.Failed {
		t.Errorf("sent %d != accepted %d + failed %d", res.Sent, res.Accepted, res.Failed)
	}
	return res
}

// TestCoordinatedOmission: the server stalls once, every reply held for
// one second. In open loop the messages that fell due during the stall
// wait for it, and the corrected latency (from when each was due) shows
// it; the uncorrected latency (from when each was sent) sees only the few
// messages in flight and hides it from its percentiles.
func TestCoordinatedOmission(t *testing.T) {
	var mu sync.Mutex
	var stallEnd time.Time
	var start time.Time
	srv := smtptest.Start(t, smtptest.Config{Reply: func(verb, arg string) string {
		mu.Lock()
		if stallEnd.IsZero() && verb == "." && time.Since(start) > time.Second {
			stallEnd = time.Now().Add(time.Second) // this reply, and every other, waits
		}
		end := stallEnd
		mu.Unlock()
		time.Sleep(time.Until(end))
		return ""
	}})
	mu.Lock()
	start = time.Now()
	mu.Unlock()
	res := runBounded(t, Options{
		Target: targetOf(t, srv.Addr()), Sessions: 4, Rate: 200, Duration: 3 * time.Second,
		To: "load@example.test", StartTLS: "off", Size: SizeSpec{512, 512},
	}, 3*time.Second+5*time.Second, nil, nil)
	mu.Lock()
	stalled := !stallEnd.IsZero()
	mu.Unlock()
	if !stalled {
		t.Fatal("the server never stalled")
	}
	tx, un := res.Phases[PhaseTransaction], res.TransactionUncorrected
	if tx == nil || un == nil {
		t.Fatalf("no transaction latencies: %+v", res)
	}
	t.Logf("sent %d late %d; corrected p50 %.1f p99 %.1f max %.1f ms; uncorrected p50 %.1f p99 %.1f max %.1f ms",
		res.Sent, res.Late, tx.P["50"], tx.P["99"], tx.Max, un.P["50"], un.P["99"], un.Max)
	if res.Failed != 0 || res.Accepted < 400 {
		t.Errorf("accepted %d, failed %d: %+v", res.Accepted, res.Failed, res.Errors)
	}
	// About 200 messages fell due during the stall, a third of the run:
	// the corrected p99 is near the stall, the uncorrected p99 is not.
	if tx.Max < 900 || tx.P["99"] < 500 {
		t.Errorf("corrected latency hides the 1 s stall: p99 %.1f ms, max %.1f ms", tx.P["99"], tx.Max)
	}
	if un.P["99"] > tx.P["99"]/4 {
		t.Errorf("uncorrected p99 %.1f ms is not well below the corrected %.1f ms", un.P["99"], tx.P["99"])
	}
	// The messages in flight at the stall did wait for it, sent or not.
	if un.Max < 900 {
		t.Errorf("uncorrected max %.1f ms: the stalled messages are missing", un.Max)
	}
	if res.Late < 100 {
		t.Errorf("late %d: the messages due during the stall could not start on time", res.Late)
	}
}

// TestOpenLoopPacing: the rate is global, whatever the number of sessions:
// R messages per second over D seconds is R×D messages. The per-second
// series and the HdrHistogram intervals hold every message, and no
// callback comes after Run returns.
func TestOpenLoopPacing(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Config{})
	var returned, late atomic.Bool
	var logged atomic.Int64
	var ticks atomic.Int32
	const rate, dur, sessions = 200, 2 * time.Second, 8
	res := runBounded(t, Options{
		Target: targetOf(t, srv.Addr()), Sessions: sessions, Rate: rate, Duration: dur,
		To: "load@example.test", StartTLS: "off", Size: SizeSpec{256, 256},
	}, dur+5*time.Second, func(Progress) {
		ticks.Add(1)
		late.Store(late.Load() || returned.Load())
	}, func(h *hdrhistogram.Histogram) {
		logged.Add(h.TotalCount())
		late.Store(late.Load() || returned.Load())
	})
	returned.Store(true)
	want := float64(rate) * dur.Seconds()
	if got := float64(res.Sent); got < want*0.95 || got > want*1.05 {
		t.Errorf("sent %d messages at %d/s for %v, want %v ± 5%%", res.Sent, rate, dur, want)
	}
	if res.Accepted != res.Sent || len(srv.Messages()) != int(res.Accepted) {
		t.Errorf("sent %d, accepted %d, the server got %d: %+v", res.Sent, res.Accepted, len(srv.Messages()), res.Errors)
	}
	if srv.Conns() != sessions {
		t.Errorf("%d connections, want one per session (%d)", srv.Conns(), sessions)
	}
	if ticks.Load() < 1 {
		t.Error("no progress")
	}
	time.Sleep(50 * time.Millisecond)
	if late.Load() {
		t.Error("a callback came after Run returned")
	}
	var sum Second
	for _, s := range res.Series {
		sum.Started += s.Started
		sum.Accepted += s.Accepted
		sum.Bytes += s.Bytes
	}
	if sum.Started != res.Sent || sum.Accepted != res.Accepted || sum.Bytes != res.Bytes {
		t.Errorf("the series adds up to %+v, the result says sent %d accepted %d bytes %d", sum, res.Sent, res.Accepted, res.Bytes)
	}
	if tx := res.Phases[PhaseTransaction]; tx == nil || logged.Load() != tx.Count {
		t.Errorf("the HdrHistogram intervals hold %d transactions, the result %+v", logged.Load(), tx)
	}
}

// errorCase is a server fault and the one error class it must produce.
type errorCase struct {
	name   string
	cfg    smtptest.Config
	opts   func(*Options)
	class  string // the only class
	phase  Phase
	sample string // in the first example
	conns  func(sent int64, conns int) bool
}

func TestErrorClasses(t *testing.T) {
	hangup := func(verb string, h smtptest.Hangup) smtptest.HangupFunc {
		return func(v, _ string) smtptest.Hangup {
			if v == verb {
				return h
			}
			return smtptest.HangupNone
		}
	}
	perMessage := func(sent int64, conns int) bool { return int64(conns) == sent }
	kept := func(_ int64, conns int) bool { return conns == 1 || conns == 2 } // one session may do all
	cases := []errorCase{
		{name: "rcpt 4xx", cfg: smtptest.Config{Reply: smtptest.Refuse("RCPT", "", "452 4.5.3 too many recipients")},
			class: "rcpt reply 452 4.5.3", phase: PhaseRcpt, sample: "452 4.5.3 too many recipients", conns: kept},
		{name: "mail 5xx", cfg: smtptest.Config{Reply: smtptest.Refuse("MAIL", "", "553 5.7.1 sender refused")},
			opts:  func(o *Options) { o.Pipelining = PipeliningOff }, // the fake accepts RCPT without MAIL
			class: "mail reply 553 5.7.1", phase: PhaseMail, sample: "sender refused", conns: kept},
		{name: "data 5xx", cfg: smtptest.Config{Reply: smtptest.Refuse("DATA", "", "554 5.3.4 not now")},
			class: "data reply 554 5.3.4", phase: PhaseData, sample: "not now", conns: kept},
		{name: "end of data 5xx", cfg: smtptest.Config{Reply: smtptest.Refuse(".", "", "554 5.6.0 content rejected")},
			class: "end_of_data reply 554 5.6.0", phase: PhaseEndOfData, sample: "554 5.6.0 content rejected", conns: kept},
		{name: "421 closes", cfg: smtptest.Config{Reply: smtptest.Refuse("RCPT", "", "421 4.3.2 shutting down")},
			class: "rcpt reply 421 4.3.2", phase: PhaseRcpt, sample: "shutting down", conns: perMessage},
		{name: "reset at MAIL", cfg: smtptest.Config{Hangup: hangup("MAIL", smtptest.HangupReset)},
			class: "mail network reset", phase: PhaseMail, sample: "reset", conns: perMessage},
		{name: "closed at end of data", cfg: smtptest.Config{Hangup: hangup(".", smtptest.HangupClose)},
			class: "end_of_data network closed", phase: PhaseEndOfData, sample: "EOF", conns: perMessage},
		{name: "silent after DATA", cfg: smtptest.Config{Hangup: hangup(".", smtptest.HangupSilent)},
			opts:  func(o *Options) { o.Messages, o.Duration, o.Timeout = 0, time.Second, 300*time.Millisecond },
			class: "end_of_data network timeout", phase: PhaseEndOfData, sample: "timeout", conns: perMessage},
		{name: "no greeting", cfg: smtptest.Config{Hangup: hangup("GREETING", smtptest.HangupSilent)},
			opts:  func(o *Options) { o.Messages, o.Duration, o.Timeout = 0, time.Second, 300*time.Millisecond },
			class: "greeting network timeout", phase: PhaseGreeting, sample: "timeout", conns: perMessage},
	}
	for _, pipelining := range []Pipelining{PipeliningOff, PipeliningOn} {
		for _, tc := range cases {
			t.Run(string(pipelining)+"/"+tc.name, func(t *testing.T) {
				srv := smtptest.Start(t, tc.cfg)
				o := Options{Target: targetOf(t, srv.Addr()), Sessions: 2, Messages: 20, Pipelining: pipelining,
					To: "load@example.test", StartTLS: "off", Size: SizeSpec{300, 300}, Timeout: 5 * time.Second}
				if tc.opts != nil {
					tc.opts(&o)
				}
				if o.Pipelining != pipelining {
					t.Skip("not with pipelining")
				}
				// On time: the duration, then at most a timeout for the
				// messages in flight (and slack for a loaded machine).
				res := runBounded(t, o, o.Duration+o.Timeout+2*time.Second, nil, nil)
				checkOnlyClass(t, res, tc.class, tc.phase, tc.sample)
				if res.Accepted != 0 || res.Failed == 0 || (o.Messages > 0 && res.Sent != o.Messages) {
					t.Errorf("sent %d accepted %d failed %d", res.Sent, res.Accepted, res.Failed)
				}
				if !tc.conns(res.Sent, srv.Conns()) {
					t.Errorf("%d connections for %d messages", srv.Conns(), res.Sent)
				}
			})
		}
	}
}

// checkOnlyClass checks that every failure is of class, with an example.
func checkOnlyClass(t *testing.T, res *Result, class string, phase Phase, sample string) {
	t.Helper()
	if len(res.Errors) != 1 {
		t.Fatalf("error classes %+v, want only %q", res.Errors, class)
	}
	e := res.Errors[0]
	if e.Class != class || e.Phase != phase || e.Count != res.Failed || !strings.Contains(e.Example, sample) {
		t.Errorf("error class %+v, want %q in %s counting all %d failures, the example mentioning %q", e, class, phase, res.Failed, sample)
	}
}

// TestConnectionRefused: nothing listens; every message is a refused
// connection, and the session backs off instead of spinning.
func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	res := runBounded(t, Options{Target: targetOf(t, addr), Sessions: 1, Messages: 5, To: "load@example.test"}, 10*time.Second, nil, nil)
	checkOnlyClass(t, res, "connect network refused", PhaseConnect, "refused")
	if res.Sent != 5 || res.Failed != 5 {
		t.Errorf("sent %d failed %d", res.Sent, res.Failed)
	}
	// Bounded by duration too: the backoff never outlasts the run.
	res = runBounded(t, Options{Target: targetOf(t, addr), Sessions: 3, Duration: 500 * time.Millisecond, To: "load@example.test"}, 3*time.Second, nil, nil)
	if res.Failed == 0 || res.Failed > 100 {
		t.Errorf("failed %d connections in 0.5 s with 3 sessions: no backoff?", res.Failed)
	}
}

// TestRefusedRecipientOfSeveral: a message with one recipient refused out
// of three still goes to the other two, with or without pipelining; the
// refusal is counted by class, the message is accepted.
func TestRefusedRecipientOfSeveral(t *testing.T) {
	for _, pipelining := range []Pipelining{PipeliningOff, PipeliningOn} {
		t.Run(string(pipelining), func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Config{Reply: smtptest.Refuse("RCPT", "<user2@example.test>", "550 5.1.1 no such user")})
			res := runBounded(t, Options{Target: targetOf(t, srv.Addr()), Sessions: 2, Messages: 10, Pipelining: pipelining,
				Rcpts: 3, To: "user{1-3}@example.test", StartTLS: "off"}, 10*time.Second, nil, nil)
			if res.Accepted != 10 || res.Failed != 0 {
				t.Errorf("accepted %d failed %d", res.Accepted, res.Failed)
			}
			if len(res.Errors) != 1 || res.Errors[0].Class != "rcpt reply 550 5.1.1" || res.Errors[0].Count != 10 {
				t.Errorf("errors %+v", res.Errors)
			}
			for _, m := range srv.Messages() {
				if len(m.Rcpts) != 2 {
					t.Errorf("recipients %q", m.Rcpts)
				}
			}
		})
	}
}

// TestMaxErrors: the run stops soon after MaxErrors failures.
func TestMaxErrors(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Config{Reply: smtptest.Refuse(".", "", "554 5.6.0 no")})
	res := runBounded(t, Options{Target: targetOf(t, srv.Addr()), Sessions: 2, Messages: 10000, MaxErrors: 5,
		To: "load@example.test", StartTLS: "off"}, 10*time.Second, nil, nil)
	if res.Failed < 5 || res.Sent > 50 {
		t.Errorf("sent %d failed %d with MaxErrors 5", res.Sent, res.Failed)
	}
}

// TestCancel: cancelling the context ends a run without limits, with
// what was measured.
func TestCancel(t *testing.T) {
	k := startSink(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	t0 := time.Now()
	res, err := Run(ctx, Options{Target: k.target(t), Sessions: 3, To: "load@example.test"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(t0) > 5*time.Second {
		t.Errorf("took %v to stop", time.Since(t0))
	}
	if res.Accepted == 0 || res.Failed != 0 || res.Sent != res.Accepted || int64(k.messages.Load()) != res.Accepted {
		t.Errorf("sent %d accepted %d failed %d, the sink got %d: %+v", res.Sent, res.Accepted, res.Failed, k.messages.Load(), res.Errors)
	}
}

// TestSegmentsMerge: segments 1/2 and 2/2 of 301 messages send 151 and
// 150, and merged they count what one run of 301 counts, histograms
// included.
func TestSegmentsMerge(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Config{Extensions: []string{"PIPELINING"}})
	opts := Options{Target: targetOf(t, srv.Addr()), Sessions: 3, Messages: 301, To: "user{1-7}@example.test", StartTLS: "off", Rate: 0}
	one := runBounded(t, opts, 20*time.Second, nil, nil)
	var parts []*Result
	for seg := 1; seg <= 2; seg++ {
		o := opts
		o.Segment, o.Segments = seg, 2
		parts = append(parts, runBounded(t, o, 20*time.Second, nil, nil))
	}
	if parts[0].Sent != 151 || parts[1].Sent != 150 || parts[0].Settings.Messages != 151 {
		t.Errorf("segments sent %d and %d (settings %d, %d), want 151 and 150", parts[0].Sent, parts[1].Sent,
			parts[0].Settings.Messages, parts[1].Settings.Messages)
	}
	m, err := Merge(parts)
	if err != nil {
		t.Fatal(err)
	}
	if m.Sent != one.Sent || m.Accepted != one.Accepted || m.Failed != one.Failed || m.Bytes != one.Bytes || m.Accepted != 301 {
		t.Errorf("merged sent %d accepted %d failed %d bytes %d; one run: %d %d %d %d",
			m.Sent, m.Accepted, m.Failed, m.Bytes, one.Sent, one.Accepted, one.Failed, one.Bytes)
	}
	if m.Settings.Messages != 301 || m.Settings.Sessions != 6 || m.Settings.Segments != 2 || m.Settings.Segment != 0 {
		t.Errorf("merged settings %+v", m.Settings)
	}
	for _, p := range Phases {
		var sum int64
		for _, part := range parts {
			if l := part.Phases[p]; l != nil {
				sum += l.Count
			}
		}
		if l := m.Phases[p]; sum > 0 && (l == nil || l.Count != sum || decodeCount(t, l) != sum) {
			t.Errorf("%s: merged %+v, the parts count %d", p, l, sum)
		}
		if l, o := m.Phases[p], one.Phases[p]; (p == PhaseMail || p == PhaseTransaction) && (l == nil || o == nil || l.Count != o.Count) {
			t.Errorf("%s: merged %+v, one run %+v", p, l, o)
		}
	}
	if u := m.TransactionUncorrected; u == nil || u.Count != 301 || decodeCount(t, u) != 301 {
		t.Errorf("merged uncorrected %+v", u)
	}
	var series int64
	for _, s := range m.Series {
		series += s.Accepted
	}
	if series != 301 {
		t.Errorf("the merged series holds %d messages", series)
	}
	// Each message of both segments is distinct: segment/sequence.
	seen := map[string]bool{}
	for _, msg := range srv.Messages()[301:] {
		_, rest, _ := strings.Cut(string(msg.Data), "X-Mailcheck-Seq: ")
		id, _, _ := strings.Cut(rest, "\r\n")
		if seen[id] {
			t.Errorf("message %s twice", id)
		}
		seen[id] = true
	}
	if len(seen) != 301 || !seen["1/151"] || !seen["2/150"] || seen["1/152"] {
		t.Errorf("%d distinct messages from the segments", len(seen))
	}
}

func decodeCount(t *testing.T, l *Latency) int64 {
	t.Helper()
	h, err := hdrhistogram.Decode([]byte(l.Histogram))
	if err != nil {
		t.Fatal(err)
	}
	return h.TotalCount()
}

// TestSegmentShares: each segment takes its share of the rate and of the
// messages, the first ones one message more when they do not divide.
func TestSegmentShares(t *testing.T) {
	tg := target.Target{Protocol: "smtp", Addr: "127.0.0.1:1"}
	var total int64
	var rate float64
	for seg := 1; seg <= 3; seg++ {
		o, err := Options{Target: tg, To: "a@b.test", Messages: 10, Rate: 300, Segment: seg, Segments: 3}.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		if want := map[int]int64{1: 4, 2: 3, 3: 3}[seg]; o.Messages != want || o.nothing {
			t.Errorf("segment %d/3 of 10: %d messages", seg, o.Messages)
		}
		total += o.Messages
		rate += o.Rate
	}
	if total != 10 || rate != 300 {
		t.Errorf("shares add up to %d messages at %g/s", total, rate)
	}
	o, _ := Options{Target: tg, To: "a@b.test", Messages: 2, Segment: 3, Segments: 3}.withDefaults()
	if !o.nothing {
		t.Error("segment 3/3 of 2 messages has something to send")
	}
	if _, err := (Options{Target: tg, To: "a@b.test", Segment: 4, Segments: 3}).withDefaults(); err == nil {
		t.Error("segment 4/3 accepted")
	}
}

// TestMessagesPerSessionAndPipelining: with pipelining, the data of one
// message and the commands of the next share a write, and the server
// still sees every message whole, its size announced (SIZE); a session
// reconnects after its share.
func TestMessagesPerSessionAndPipelining(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Config{Extensions: []string{"PIPELINING", "SIZE 1000000"}})
	res := runBounded(t, Options{Target: targetOf(t, srv.Addr()), Sessions: 2, Messages: 100, MessagesPerSession: 10,
		To: "load@example.test", StartTLS: "off", Size: SizeSpec{100, 5000}}, 20*time.Second, nil, nil)
	if res.Accepted != 100 || res.Settings.Pipelining != "auto" {
		t.Fatalf("accepted %d: %+v", res.Accepted, res.Errors)
	}
	// 100 messages at 10 per connection: 10 connections, or a few more
	// when the sessions' shares are not multiples of 10.
	if c := srv.Conns(); c < 10 || c > 12 || srv.CountCommands("QUIT") != c || srv.CountCommands("RSET") != 0 {
		t.Errorf("%d connections, %d QUIT, %d RSET for 100 messages at 10 per connection", c, srv.CountCommands("QUIT"), srv.CountCommands("RSET"))
	}
	var bytes int64
	for _, m := range srv.Messages() {
		bytes += int64(len(m.Data))
		if m.From != fmt.Sprintf("FROM:<load@mailcheck.invalid> SIZE=%d", len(m.Data)) || len(m.Rcpts) != 1 {
			t.Errorf("MAIL %q RCPT %q for %d octets", m.From, m.Rcpts, len(m.Data))
		}
	}
	if bytes != res.Bytes {
		t.Errorf("the server got %d octets, the result says %d", bytes, res.Bytes)
	}
}

// TestNoSizeUnlessAnnounced: MAIL carries SIZE= only when the server
// announced SIZE (RFC 1870 §6).
func TestNoSizeUnlessAnnounced(t *testing.T) {
	for _, pipelining := range []Pipelining{PipeliningOff, PipeliningOn} {
		srv := smtptest.Start(t, smtptest.Config{})
		res := runBounded(t, Options{Target: targetOf(t, srv.Addr()), Messages: 3, Pipelining: pipelining,
			To: "load@example.test", StartTLS: "off"}, 10*time.Second, nil, nil)
		if res.Accepted != 3 {
			t.Fatalf("%s: accepted %d: %+v", pipelining, res.Accepted, res.Errors)
		}
		for _, m := range srv.Messages() {
			if m.From != "FROM:<load@mailcheck.invalid>" {
				t.Errorf("%s: MAIL %s", pipelining, m.From)
			}
		}
	}
}
