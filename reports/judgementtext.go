package reports

import (
	"fmt"
	"io"

	"github.com/mailcheck/mailcheck/load/summary"
)

// WriteBreaches lists the thresholds a load run breached.
func WriteBreaches(w io.Writer, breaches []summary.Breach) {
	fmt.Fprintf(w, "\nthresholds breached\n")
	for _, b := range breaches {
		fmt.Fprintf(w, "  %s\n", b.Message)
	}
}

// WriteJudgements lists the thresholds each run breached, under the run's
// name when there are several, and returns how many were breached.
func WriteJudgements(w io.Writer, judgements []LoadJudgement) int {
	breached := 0
	for _, j := range judgements {
		breaches := j.Breaches()
		if len(breaches) == 0 {
			continue
		}
		if len(judgements) > 1 {
			fmt.Fprintf(w, "\n%s:", j.Name)
		}
		WriteBreaches(w, breaches)
		breached += len(breaches)
	}
	return breached
}

// WriteThresholdsMet says that every one of n thresholds was met; nothing
// when there were none.
func WriteThresholdsMet(w io.Writer, n int) {
	if n > 0 {
		fmt.Fprintf(w, "\nall %d thresholds met\n", n)
	}
}

// WriteRegressions lists what got worse against the baselines (Regressions),
// or says that nothing did.
func WriteRegressions(w io.Writer, regressions []string) {
	if len(regressions) == 0 {
		fmt.Fprintln(w, "\ncompared: no regression")
		return
	}
	fmt.Fprintf(w, "\ncompared: %d regressions\n", len(regressions))
	for _, r := range regressions {
		fmt.Fprintln(w, "  "+r)
	}
}
