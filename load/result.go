package load

import "time"

// Tool is the version recorded in results; cmd/mailcheck sets it.
var Tool = "(devel)"

func (r *run) result() *Result {
	o := r.opts
	elapsed := time.Since(r.m.start).Seconds()
	res := &Result{
		Kind: ResultKind, Version: ResultVersion, Tool: Tool, Started: r.m.start.UTC(), Elapsed: elapsed,
		Active: time.Duration(r.m.lastDone.Load()).Seconds(),
		Sent:   r.m.started.Load(), Accepted: r.m.accepted.Load(), Failed: r.m.failed.Load(), Late: r.m.late.Load(),
		Bytes: r.m.bytes.Load(), Phases: map[Phase]*Latency{}, Errors: r.m.errorClasses(),
		Settings: Settings{
			Target: o.Target.String(), Sessions: o.Sessions, Rate: o.Rate, Messages: o.Messages, DurationS: o.Duration.Seconds(),
			MessagesPerSession: o.MessagesPerSession, RampS: o.Ramp.Seconds(), Pipelining: string(o.Pipelining),
			SizeMin: o.Size.Min, SizeMax: o.Size.Max, Rcpts: o.Rcpts, Segment: o.Segment, Segments: o.Segments, Model: "closed",
		},
	}
	if o.Rate > 0 {
		res.Settings.Model = "open"
	}
	for _, p := range Phases {
		if h := r.m.merged(p); h.TotalCount() > 0 {
			res.Phases[p] = summarize(h)
		}
	}
	if h := r.m.merged(""); h.TotalCount() > 0 {
		res.TransactionUncorrected = summarize(h)
	}
	r.m.seriesMu.Lock()
	res.Series = append([]Second{}, r.m.series...)
	r.m.seriesMu.Unlock()
	res.Finish()
	return res
}
