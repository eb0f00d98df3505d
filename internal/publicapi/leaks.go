// Package publicapi finds exported APIs of the module's public packages that
// mention a type from an internal/ package. Such an API cannot be used in full
// from another Go module: it can neither name the type nor, for an interface,
// implement it (Go spec "Import declarations"; cmd/go "Internal Directories").
package publicapi

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Leak is one exported API that mentions an internal type.
type Leak struct {
	Pos  token.Position // where the API is declared
	API  string         // e.g. "smtpserver.Backend.Recipient"
	Type string         // the internal type, e.g. "internal/smtpwire.Mailbox"
}

func (l Leak) String() string {
	return fmt.Sprintf("%s: %s mentions %s", l.Pos, l.API, l.Type)
}

// Leaks scans every public package under root (directories named internal
// and testdata, and hidden directories, are skipped along with everything
// below them) and returns the exported APIs that mention an internal type,
// sorted by position. Only the files of the default build context count, as
// for `go build`; test files do not.
func Leaks(root string) ([]Leak, error) {
	var leaks []Leak
	err := filepath.WalkDir(root, func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if dir != root && skipDir(d.Name()) {
			return filepath.SkipDir
		}
		found, err := packageLeaks(dir)
		leaks = append(leaks, found...)
		return err
	})
	sort.Slice(leaks, func(i, j int) bool {
		a, b := leaks[i].Pos, leaks[j].Pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Line < b.Line
	})
	return leaks, err
}

func skipDir(name string) bool {
	return name == "internal" || name == "testdata" || name == "vendor" ||
		strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

func packageLeaks(dir string) ([]Leak, error) {
	pkg, err := build.ImportDir(dir, 0)
	if _, none := err.(*build.NoGoError); none {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var leaks []Leak
	for _, name := range pkg.GoFiles {
		file, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		leaks = append(leaks, fileLeaks(fset, file)...)
	}
	return leaks, nil
}

// internalImports maps the names under which a file imports internal
// packages to their import paths.
func internalImports(file *ast.File) map[string]string {
	names := map[string]string{}
	for _, imp := range file.Imports {
		p := strings.Trim(imp.Path.Value, `"`)
		if !isInternal(p) {
			continue
		}
		name := path.Base(p)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		names[name] = p
	}
	return names
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
