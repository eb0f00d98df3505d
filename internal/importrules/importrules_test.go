package importrules

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/mailcheck/mailcheck"

// rule forbids the packages matching from to import, directly or not, a
// package matching any of forbid. Patterns are relative to the module:
// "x" is the package x, "x/..." x and every package under it, and other
// patterns are path.Match patterns ("conformance/*suite").
type rule struct {
	from   []string
	forbid []string
	why    string
}

var rules = []rule{
	{
		from:   []string{"reports"},
		forbid: []string{"reference/...", "conformance/*suite", "conformance", "conformance/engine", "load", "agent/..."},
		why:    "reports depends on the result models only",
	},
	{
		from:   []string{"agent/...", "load/..."},
		forbid: []string{"conformance/..."},
		why:    "agent and load reach servers without the conformance suites or engine",
	},
	{
		from:   []string{"load/progress"},
		forbid: []string{"reference/...", "conformance/...", "reports", "agent/..."},
		why:    "the progress display shows a run of the generator and needs nothing else",
	},
	{
		from:   []string{"reference/..."},
		forbid: []string{"agent/...", "load/...", "conformance/...", "reports"},
		why:    "the reference server (and its starter, sized for a load run) imports no client-side package (the public smtp/smtpclient is fine)",
	},
	{
		from:   []string{"conformance/verdict", "load/summary", "target"},
		forbid: []string{"reference/...", "conformance", "conformance/engine", "conformance/*suite", "load", "agent/..."},
		why:    "the result models and target are leaves: they import no server, suite, runner or generator",
	},
	{
		from:   []string{"internal/faultdisk"},
		forbid: []string{"reference/..."},
		why:    "faultdisk is a leaf, so that durable's own tests can use it (it repeats durable.FS)",
	},
	{
		from:   []string{"cmd/...", "reference/...", "conformance/...", "load/...", "agent/...", "reports/..."},
		forbid: []string{"internal/fault*"},
		why:    "the fault injectors are test-only: nothing the binary links imports them",
	},
	{
		from:   []string{"pop3/pop3client", "imap/imapwire"},
		forbid: []string{"reference/...", "conformance/...", "agent/...", "load/...", "internal/...", "smtp/...", "target"},
		why:    "the POP3 client core and the IMAP response reader depend on the read-bounds policy only: every client of their protocols imports them",
	},
	{
		from:   []string{"internal/wireescape"},
		forbid: []string{"reference/...", "conformance/...", "agent/...", "load/...", "internal/...", "smtp/...", "target", "bounds", "reports/..."},
		why:    "the transcript escaper is a leaf the engine and the user agent share",
	},
	{
		from:   []string{"smtp/smtpclient"},
		forbid: []string{"conformance/...", "agent/...", "load/...", "reference/..."},
		why:    "the SMTP client core serves the suites, agent, load generator and relay, and imports none of them",
	},
}

func TestImportRules(t *testing.T) {
	graph := moduleGraph(t)
	for _, r := range rules {
		roots := matching(graph, r.from)
		if len(roots) == 0 {
			t.Errorf("no package matches %v: the rule %q checks nothing", r.from, r.why)
		}
		for _, root := range roots {
			for _, chain := range forbiddenChains(graph, root, r.forbid) {
				t.Errorf("%s: %s imports %s", r.why, rel(root), strings.Join(relAll(chain), " -> "))
			}
		}
	}
}

// TestRulesCatchAViolation proves the checker on a made-up graph: a test
// of rules that cannot fail would prove nothing.
func TestRulesCatchAViolation(t *testing.T) {
	graph := map[string][]string{
		module + "/reports":                  {module + "/conformance/verdict", "fmt"},
		module + "/conformance/verdict":      {module + "/target", module + "/conformance/engine"},
		module + "/conformance/engine":       {module + "/reference/smtpserver"},
		module + "/target":                   nil,
		module + "/reference/smtpserver":     nil,
		module + "/conformance/smtpsuite":    {module + "/conformance/engine"},
		module + "/conformance/seed":         nil,
		module + "/load/summary":             nil,
		module + "/reference/smtpserver/sub": nil,
	}
	got := forbiddenChains(graph, module+"/reports", []string{"reference/...", "conformance/*suite"})
	want := "conformance/verdict -> conformance/engine -> reference/smtpserver"
	if len(got) != 1 || strings.Join(relAll(got[0]), " -> ") != want {
		t.Errorf("chains from reports: %v, want one: %s", got, want)
	}
	if got := forbiddenChains(graph, module+"/conformance/engine", []string{"conformance/*suite", "load"}); len(got) != 0 {
		t.Errorf("engine imports no suite, yet: %v", got)
	}
	if !matches("conformance/smtpsuite", "conformance/*suite") || matches("conformance/seed", "conformance/*suite") ||
		!matches("reference", "reference/...") || !matches("reference/a/b", "reference/...") || matches("referenced", "reference/...") {
		t.Error("pattern matching is wrong")
	}
}

// moduleGraph returns, for every package of the module and the packages
// they import (tests excluded), what each imports.
func moduleGraph(t *testing.T) map[string][]string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the go command is needed to check the import rules: %v", err)
		}
		t.Skipf("no go command on PATH: %v", err)
	}
	cmd := exec.Command(gocmd, "list", "-e", "-json=ImportPath,Imports,Error", "-deps", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	graph := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
			Error      *struct{ Err string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		graph[p.ImportPath] = p.Imports
	}
	return graph
}

// forbiddenChains returns, for each forbidden package root reaches, the
// shortest chain of imports from root to it (root not included).
func forbiddenChains(graph map[string][]string, root string, forbid []string) [][]string {
	parent := map[string]string{root: ""}
	queue := []string{root}
	var chains [][]string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, imp := range graph[p] {
			if _, seen := parent[imp]; seen || !strings.HasPrefix(imp, module+"/") {
				continue
			}
			parent[imp] = p
			if matchesAny(rel(imp), forbid) {
				chains = append(chains, chainTo(parent, imp))
				continue // what it imports in turn is its own rule's business
			}
			queue = append(queue, imp)
		}
	}
	return chains
}

func chainTo(parent map[string]string, p string) []string {
	var chain []string
	for ; parent[p] != ""; p = parent[p] {
		chain = append([]string{p}, chain...)
	}
	return chain
}

// matching returns the packages of the graph that match any pattern.
func matching(graph map[string][]string, patterns []string) []string {
	var out []string
	for p := range graph {
		if strings.HasPrefix(p, module+"/") && matchesAny(rel(p), patterns) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func matchesAny(relPath string, patterns []string) bool {
	for _, pat := range patterns {
		if matches(relPath, pat) {
			return true
		}
	}
	return false
}

func matches(relPath, pattern string) bool {
	if dir, ok := strings.CutSuffix(pattern, "/..."); ok {
		return relPath == dir || strings.HasPrefix(relPath, dir+"/")
	}
	ok, _ := path.Match(pattern, relPath)
	return ok
}

func rel(p string) string { return strings.TrimPrefix(p, module+"/") }

func relAll(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = rel(p)
	}
	return out
}
