// Package publicapi finds exported APIs of a module's public packages that
// mention a type from an internal/ package. Such an API cannot be used in
// full from another Go module: the other module can neither name the type
// nor, for an interface that has it in a method, implement the interface
// (cmd/go "Internal Directories").
package publicapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/importer"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Leak is one exported API that mentions an internal type.
type Leak struct {
	Pos  token.Position // where the API is declared
	API  string         // e.g. "smtpserver.Backend.Recipient"
	Type string         // the internal type, e.g. "…/internal/smtpwire.Mailbox"
}

func (l Leak) String() string {
	return fmt.Sprintf("%s: %s mentions %s", l.Pos, l.API, l.Type)
}

// listed is what `go list -export -json` says of a package.
type listed struct {
	ImportPath string
	Name       string
	Export     string // the compiled package's export data
	DepOnly    bool   // a dependency, not matched by the pattern
}

// Leaks type-checks the packages of the module in root (its ./... without
// tests) from their compiled export data, as `go build` sees them, and
// returns the exported APIs of the public ones (not under internal/, not
// main) that mention an internal type, sorted by position, with file names relative to root. gobin is the go
// command, which builds the export data.
func Leaks(gobin, root string) ([]Leak, error) {
	pkgs, err := goList(gobin, root)
	if err != nil {
		return nil, err
	}
	exports := map[string]string{}
	for _, p := range pkgs {
		exports[p.ImportPath] = p.Export
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		if exports[path] == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(exports[path])
	})
	var leaks []Leak
	for _, p := range pkgs {
		if p.DepOnly || p.Name == "main" || isInternal(p.ImportPath) {
			continue
		}
		pkg, err := imp.Import(p.ImportPath)
		if err != nil {
			return nil, err
		}
		leaks = append(leaks, packageLeaks(fset, pkg)...)
	}
	for i := range leaks {
		if rel, err := filepath.Rel(root, leaks[i].Pos.Filename); err == nil {
			leaks[i].Pos.Filename = rel
		}
	}
	sort.SliceStable(leaks, func(i, j int) bool {
		a, b := leaks[i].Pos, leaks[j].Pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Line < b.Line
	})
	return leaks, nil
}

func goList(gobin, root string) ([]listed, error) {
	cmd := exec.Command(gobin, "list", "-export", "-deps", "-json=ImportPath,Name,Export,DepOnly", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list in %s: %v\n%s", root, err, stderr.Bytes())
	}
	var pkgs []listed
	for dec := json.NewDecoder(bytes.NewReader(out)); dec.More(); {
		var p listed
		if err := dec.Decode(&p); err != nil {
			return nil, err
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// isInternal reports whether an import path has an element named internal
// (cmd/go "Internal Directories").
func isInternal(importPath string) bool {
	for _, elem := range strings.Split(importPath, "/") {
		if elem == "internal" {
			return true
		}
	}
	return false
}
