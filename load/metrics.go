package load

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// shard is one set of histograms: sessions record into the shard of their
// number, under its lock. One histogram per session and phase would cost
// 10,000 sessions × 10 phases × 184 KB; shards keep memory flat (2.2 MB
// each, at most maxShards) while lock contention stays nil (a session
// holds the lock once per transaction, briefly). Merged at the end, the
// result is the same.
type shard struct {
	mu          sync.Mutex
	phases      map[Phase]*hdrhistogram.Histogram
	uncorrected *hdrhistogram.Histogram // open loop: transaction from actual start
	interval    *hdrhistogram.Histogram // transaction latencies since the last interval (HdrHistogram log)
}

// metrics is the state of a run's measurements.
type metrics struct {
	start  time.Time
	shards []*shard

	started, accepted, failed, late, bytes atomic.Int64
	// lastDone is when the latest message was accepted, in nanoseconds
	// since start: the end of the interval rates are computed over.
	lastDone      atomic.Int64
	sessionErrors atomic.Int64

	errMu  sync.Mutex
	errors map[string]*ErrorClass

	seriesMu sync.Mutex
	series   []Second
}

// maxShards bounds the histograms' memory on machines with many cores.
const maxShards = 32

func newMetrics(nshards int) *metrics {
	m := &metrics{start: time.Now(), errors: map[string]*ErrorClass{}}
	for range nshards {
		s := &shard{phases: map[Phase]*hdrhistogram.Histogram{}, uncorrected: newHistogram(), interval: newHistogram()}
		for _, p := range Phases {
			s.phases[p] = newHistogram()
		}
		m.shards = append(m.shards, s)
	}
	return m
}

func (m *metrics) shard(session int) *shard { return m.shards[session%len(m.shards)] }

func micros(d time.Duration) int64 { return max(d.Microseconds(), 1) }

// record adds one latency of a phase.
func (s *shard) record(p Phase, d time.Duration) {
	s.mu.Lock()
	s.phases[p].RecordValue(min(micros(d), histHighest))
	s.mu.Unlock()
}

// merged returns the merged histogram of a phase ("" for the uncorrected
// transaction).
func (m *metrics) merged(p Phase) *hdrhistogram.Histogram {
	h := newHistogram()
	for _, s := range m.shards {
		s.mu.Lock()
		if p == "" {
			h.Merge(s.uncorrected)
		} else {
			h.Merge(s.phases[p])
		}
		s.mu.Unlock()
	}
	return h
}

// takeInterval merges and resets the interval histograms.
func (m *metrics) takeInterval() *hdrhistogram.Histogram {
	h := newHistogram()
	for _, s := range m.shards {
		s.mu.Lock()
		h.Merge(s.interval)
		s.interval.Reset()
		s.mu.Unlock()
	}
	return h
}

// fail records a failure in phase: an SMTP reply (by code and enhanced
// code) or a network error (by cause).
func (m *metrics) fail(p Phase, err error) {
	class := string(p) + " " + classify(err)
	m.errMu.Lock()
	defer m.errMu.Unlock()
	c := m.errors[class]
	if c == nil {
		c = &ErrorClass{Class: class, Phase: p, Example: err.Error()}
		m.errors[class] = c
	}
	c.Count++
}

// classify names the kind of an error: "reply 452 4.5.3", or a network
// cause (refused, reset, timeout, closed, tls, …).
func classify(err error) string {
	var r *smtpreply.Reply
	var ne net.Error
	switch {
	case errors.As(err, &r):
		s := fmt.Sprintf("reply %d", r.Code)
		if r.Enhanced != "" {
			s += " " + r.Enhanced
		}
		return s
	case errors.Is(err, syscall.ECONNREFUSED):
		return "network refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "network reset"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "network timeout"
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), errors.Is(err, io.ErrUnexpectedEOF):
		return "network closed"
	case errors.Is(err, smtpreply.ErrMalformedReply):
		return "protocol malformed reply"
	}
	return "other"
}

func (m *metrics) errorClasses() []ErrorClass {
	m.errMu.Lock()
	defer m.errMu.Unlock()
	out := make([]ErrorClass, 0, len(m.errors))
	for _, c := range m.errors {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Count > out[j].Count || out[i].Count == out[j].Count && out[i].Class < out[j].Class
	})
	return out
}

// tick appends the counts of the second that just ended.
func (m *metrics) tick(t int, last *Second) {
	now := Second{T: t, Started: m.started.Load(), Accepted: m.accepted.Load(), Failed: m.failed.Load(), Bytes: m.bytes.Load()}
	m.seriesMu.Lock()
	m.series = append(m.series, Second{T: t, Started: now.Started - last.Started, Accepted: now.Accepted - last.Accepted, Failed: now.Failed - last.Failed, Bytes: now.Bytes - last.Bytes})
	m.seriesMu.Unlock()
	*last = now
}

// done records an acceptance at t.
func (m *metrics) done(t time.Time) {
	at := int64(t.Sub(m.start))
	for {
		last := m.lastDone.Load()
		if at <= last || m.lastDone.CompareAndSwap(last, at) {
			return
		}
	}
}
