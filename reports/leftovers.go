package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/verdict"
)

// WriteLeftovers lists the messages a conformance run sent and could not
// delete, so that whoever runs it can remove them (each carries its
// X-Mailcheck-Nonce header); nothing when there are none.
func WriteLeftovers(w io.Writer, left []verdict.Leftover) {
	if len(left) == 0 {
		return
	}
	fmt.Fprintf(w, "Left behind: %d test message(s) the run could not delete (each found by its X-Mailcheck-Nonce header):\n", len(left))
	for _, l := range left {
		fmt.Fprintf(w, "  X-Mailcheck-Nonce: %s  to %s, from %s via %s: %s\n", l.Nonce, strings.Join(l.To, ", "), l.Check, l.Via, l.Reason)
	}
}
