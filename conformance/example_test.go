package conformance_test

import (
	"context"
	"fmt"

	"github.com/mailcheck/mailcheck/conformance"
)

// A mail server's own tests can gate on the suite. Here the target is the
// embedded reference server; a project would call conformance.Run with its
// server's address, a recipient it accepts and a read-back mailbox.
func ExampleRunEmbedded() {
	report, err := conformance.RunEmbedded(context.Background(), conformance.Options{Only: []string{"smtp.data.*"}}, nil)
	if err != nil {
		fmt.Println("could not run:", err)
		return
	}
	fmt.Println("checks:", len(report.Checks))
	fmt.Println("fails at MUST:", report.Failed(conformance.FailOnMust))
	// Output:
	// checks: 14
	// fails at MUST: false
}
