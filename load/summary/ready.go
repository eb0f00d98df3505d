package summary

import (
	"fmt"
	"strings"
)

// setupPhases are the phases before a session can send.
var setupPhases = map[Phase]bool{
	PhaseConnect: true, PhaseGreeting: true, PhaseEHLO: true, PhaseSTARTTLS: true, PhaseAuth: true,
}

// NeverReady reports a run in which no session could send: nothing
// accepted and every failure in connect, greeting, EHLO, STARTTLS or AUTH
// (a wrong port, a refused login), which says more about the setup than
// about the server's speed. It returns the commonest failure.
func (res *Result) NeverReady() (string, bool) {
	if res.Accepted > 0 || len(res.Errors) == 0 {
		return "", false
	}
	for _, e := range res.Errors {
		if !setupPhases[e.Phase] {
			return "", false
		}
	}
	e := res.Errors[0]
	return fmt.Sprintf("%d × %s (first: %s)", e.Count, e.Class, strings.TrimSpace(e.Example)), true
}
