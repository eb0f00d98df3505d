package publicapi

import (
	"strings"
	"testing"
)

// TestNoInternalTypesInPublicAPIs keeps every public package usable from
// another Go module: no exported function, method, field, interface method,
// type or variable of a package outside internal/ may mention a type from an
// internal/ package, which another module can neither name nor implement.
func TestNoInternalTypesInPublicAPIs(t *testing.T) {
	leaks, err := Leaks(goTool(t), repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range leaks {
		lines = append(lines, l.String())
	}
	if len(lines) > 0 {
		t.Errorf("%d exported APIs mention an internal type; move the type to a public package or define a public one:\n%s",
			len(lines), strings.Join(lines, "\n"))
	}
}
