package shippedbinary

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/mailcheck/mailcheck/"

// faultSymbol matches a symbol of this module whose name speaks of a
// fault: a Faults struct, a faults() accessor, a fault proxy. "default"
// is taken out first: withDefaults is not a fault.
var (
	faultSymbol  = regexp.MustCompile(`(?i)fault`)
	defaultWords = regexp.MustCompile(`(?i)default`)
)

// TestBinaryHasNoFaultInjection builds cmd/mailcheck as a user would and
// lists its symbols: none of this module's may be about faults. Fault
// injection for the proofs lives in internal test-only packages and
// wrappers (issue 14); a switch left in a server would show up here.
func TestBinaryHasNoFaultInjection(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "mailcheck")
	build := exec.Command("go", "build", "-o", bin, module+"cmd/mailcheck")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	symbols := moduleSymbols(out)
	if len(symbols) < 100 {
		t.Fatalf("only %d symbols of the module in the binary: the listing is not what this test expects", len(symbols))
	}
	var found []string
	for _, s := range symbols {
		if serverSide(s) && faultSymbol.MatchString(defaultWords.ReplaceAllString(s, "")) {
			found = append(found, s)
		}
	}
	if len(found) > 0 {
		t.Errorf("%d fault-injection symbols in the shipped binary, e.g.:\n%s", len(found), strings.Join(found[:min(len(found), 20)], "\n"))
	}
}

// serverSide says whether a package path or symbol belongs to the
// reference server (reference/...) or to fault injection (internal/fault…),
// where no name may speak of a fault. The client side may: a suite names
// the faults it detects in the servers it judges.
func serverSide(name string) bool {
	return strings.Contains(name, module+"reference") || strings.Contains(name, module+"internal/fault")
}

// moduleSymbols are the names, from go tool nm's "addr type name" lines,
// of this module's symbols.
func moduleSymbols(nm []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(nm))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		// Type descriptors and closures name the package inside
		// ("type:github.com/…", "go:itab.*github.com/…").
		name := strings.Join(fields[2:], " ")
		if strings.Contains(name, module) {
			out = append(out, name)
		}
	}
	return out
}
