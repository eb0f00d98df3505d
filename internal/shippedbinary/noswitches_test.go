package shippedbinary

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// linkedPackage is what go list says of a package the binary links.
type linkedPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
}

// TestLinkedCodeNamesNoFault reads the source of every server-side package
// of this module that cmd/mailcheck links (see serverSide): no identifier in it may be about a
// fault (a Faults field, a faults() switch). go tool nm sees only what
// has a symbol; a branch on an options field has none, so this is the
// check that the servers' code path is only the correct one.
func TestLinkedCodeNamesNoFault(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-json", module+"cmd/mailcheck").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	packages := 0
	for dec.More() {
		var p linkedPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p.ImportPath+"/", module) {
			continue
		}
		if !serverSide(p.ImportPath) {
			continue
		}
		packages++
		for _, f := range p.GoFiles {
			for _, where := range faultIdentifiers(t, filepath.Join(p.Dir, f)) {
				t.Errorf("%s: %s", strings.TrimPrefix(p.ImportPath, module), where)
			}
		}
	}
	if packages < 8 {
		t.Fatalf("cmd/mailcheck links %d server-side packages of the module: go list did not say what this test expects", packages)
	}
}

// faultIdentifiers lists the identifiers (not comments) of a Go file that
// speak of a fault, with their positions.
func faultIdentifiers(t *testing.T, path string) []string {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	ast.Inspect(file, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && faultSymbol.MatchString(defaultWords.ReplaceAllString(id.Name, "")) {
			found = append(found, fset.Position(id.Pos()).String()+": "+id.Name)
		}
		return true
	})
	return found
}
