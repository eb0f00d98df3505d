package imapsuite

import (
	"errors"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// requireSubject ends the check when the step that is its subject did not
// work: a refusal (or a malformed answer), which the session's helpers
// report as an unmet precondition, is here the check's failure; a broken
// connection stays an error. Steps that are not the subject use t.Require,
// which skips on the refusal.
func requireSubject(t *engine.T, err error) {
	var unmet *engine.PreconditionError
	if errors.As(err, &unmet) {
		t.FailNow("%s", unmet.Reason)
	}
	t.Require(err)
}
