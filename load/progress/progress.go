// Package progress shows a load run's progress while it runs: mpb bars
// on a terminal, a plain line every few seconds elsewhere (a CI log). It
// takes the callbacks of load.Run; `mailcheck load` shows it on stderr.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/vbauerster/cupwriter"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/mailcheck/mailcheck/load"
)

// plainEvery is how often the plain progress line is printed when the
// output is not a terminal.
const plainEvery = 5 * time.Second

// Display shows a load run's progress: mpb bars on a terminal, a plain
// line every plainEvery otherwise (mpb draws nothing there). load.Run
// calls Update about once a second, possibly once more after it returned,
// so updates after Stop are dropped.
type Display struct {
	w     io.Writer
	start time.Time
	total int64         // messages this generator sends, 0 when unbounded
	dur   time.Duration // the run's duration, 0 when unbounded

	mu   sync.Mutex
	last load.Progress
	done bool

	// plain
	printedAt       time.Duration
	printedAccepted int64

	// terminal
	p          *mpb.Progress
	bar, stats *mpb.Bar
	ticker     chan struct{} // closed to stop the time bar's ticker
}

// New starts the display of a run of o on w.
func New(w io.Writer, o load.Options) *Display {
	d := &Display{w: w, start: time.Now(), total: o.SegmentShare(), dur: o.Duration}
	if !drawable(w) {
		return d
	}
	d.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(100), mpb.WithRefreshRate(200*time.Millisecond))
	barTotal := d.total
	if barTotal == 0 {
		barTotal = d.dur.Milliseconds()
	}
	if barTotal > 0 {
		d.bar = d.p.New(barTotal, mpb.BarStyle(),
			mpb.PrependDecorators(decor.Name("load "), decor.Percentage(decor.WC{W: 5})),
			mpb.AppendDecorators(decor.Any(d.timeText, decor.WC{C: decor.DextraSpace})))
	}
	d.stats = d.p.New(0, mpb.NopStyle(), mpb.PrependDecorators(decor.Any(d.statsText)))
	if d.total == 0 && d.bar != nil {
		// The bar is time: move it more often than Run reports.
		d.ticker = make(chan struct{})
		go func() {
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					d.bar.SetCurrent(min(time.Since(d.start), d.dur).Milliseconds())
				case <-d.ticker:
					return
				}
			}
		}()
	}
	return d
}

// drawable reports whether w is a terminal mpb can draw on: one with a
// size (a pseudo-terminal without one would make mpb give up silently).
func drawable(w io.Writer) bool {
	cw := cupwriter.New(w, false)
	if !cw.IsTerminal() {
		return false
	}
	width, _, err := cw.GetTermSize()
	return err == nil && width > 0
}

// Update shows p, the run's counts so far.
func (d *Display) Update(p load.Progress) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done {
		return
	}
	d.last = p
	if d.p != nil {
		if d.total > 0 {
			d.bar.SetCurrent(p.Started)
		}
		return
	}
	if p.Elapsed-d.printedAt >= plainEvery-plainEvery/10 {
		rate := float64(p.Accepted-d.printedAccepted) / (p.Elapsed - d.printedAt).Seconds()
		fmt.Fprintf(d.w, "load: %s  sent %d  accepted %d  failed %d  %.0f msgs/s\n",
			p.Elapsed.Round(time.Second), p.Started, p.Accepted, p.Failed, rate)
		d.printedAt, d.printedAccepted = p.Elapsed, p.Accepted
	}
}

// timeText is the time decorator: elapsed, and what remains.
func (d *Display) timeText(decor.Statistics) string {
	d.mu.Lock()
	last := d.last
	d.mu.Unlock()
	elapsed := time.Since(d.start)
	s := elapsed.Round(time.Second).String()
	switch {
	case d.dur > 0:
		s += fmt.Sprintf(" of %s, %s left", d.dur, max(d.dur-elapsed, 0).Round(time.Second))
	case d.total > 0 && last.Rate > 0:
		s += fmt.Sprintf(", ~%s left", (time.Duration(float64(d.total-last.Started)/last.Rate) * time.Second).Round(time.Second))
	}
	return s
}

// statsText is the counters line.
func (d *Display) statsText(decor.Statistics) string {
	d.mu.Lock()
	p := d.last
	d.mu.Unlock()
	return fmt.Sprintf("sent %d  accepted %d  failed %d  %.0f msgs/s", p.Started, p.Accepted, p.Failed, p.Rate)
}

// Stop ends the display, showing the final counts of res when not nil;
// a nil Display shows nothing.
func (d *Display) Stop(res *load.Result) {
	if d == nil {
		return
	}
	d.mu.Lock()
	d.done = true
	if res != nil {
		d.last.Started, d.last.Accepted, d.last.Failed, d.last.Rate = res.Sent, res.Accepted, res.Failed, res.MsgsPS
	}
	d.mu.Unlock()
	if d.p == nil {
		return
	}
	if d.ticker != nil {
		close(d.ticker)
	}
	if d.bar != nil {
		d.bar.SetTotal(-1, true)
	}
	d.stats.SetTotal(-1, true)
	d.p.Wait()
}
