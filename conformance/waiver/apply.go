package waiver

import (
	"time"

	"github.com/mailcheck/mailcheck/conformance/verdict"
)

// Apply waives the report's fail, warn and error results that a waiver
// covers, as of now: each such result takes the first waiver in file order
// that matches it and has not expired (a later one that matches too is in
// use, not stale); its status becomes waived, its
// verdict moves to WaivedStatus. A result that only expired waivers match
// keeps its verdict and names the expired waiver. The report records
// every waiver with what it did (Report.Waivers) and gets its summary
// recounted; strict makes a stale waiver fail the run (Report.Failed).
func Apply(r *verdict.Report, waivers []Waiver, now time.Time, strict bool) {
	records := make([]verdict.WaiverRecord, len(waivers))
	matched := make([]bool, len(waivers))
	for i, w := range waivers {
		records[i] = verdict.WaiverRecord{
			Source: w.Source, Check: w.Check, Target: w.Target, Reason: w.Reason,
			Expires: w.ExpiresDay(), Expired: w.Expired(now),
		}
	}
	for ci := range r.Checks {
		c := &r.Checks[ci]
		if !waivable(c.Status) {
			continue
		}
		applied, expired := -1, -1
		for i, w := range waivers {
			if !w.Matches(c.ID, c.Target) {
				continue
			}
			// Every waiver that covers a failure is in use, the first
			// one in force applies.
			matched[i] = true
			switch {
			case records[i].Expired && expired < 0:
				expired = i
			case !records[i].Expired && applied < 0:
				applied = i
			}
		}
		switch {
		case applied >= 0:
			c.WaivedStatus, c.Status = c.Status, verdict.Waived
			c.Waiver = note(records[applied])
			records[applied].Waived++
		case expired >= 0:
			c.Waiver = note(records[expired])
		}
	}
	for i := range records {
		records[i].Stale = !matched[i]
	}
	r.Waivers = records
	r.StrictWaivers = strict
	r.Summary = map[verdict.Status]int{}
	for _, c := range r.Checks {
		r.Summary[c.Status]++
	}
}

// waivable: the verdicts a waiver accepts.
func waivable(s verdict.Status) bool {
	return s == verdict.Fail || s == verdict.Warn || s == verdict.Error
}

func note(w verdict.WaiverRecord) *verdict.WaiverNote {
	return &verdict.WaiverNote{Source: w.Source, Reason: w.Reason, Expires: w.Expires, Expired: w.Expired}
}
