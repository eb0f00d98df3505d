package publicapi

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// writeTree writes files (path → content) under a new temporary root.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestLeaksFindsEachKindOfExportedAPI proves the checker sees an internal
// type in every place another module would meet it, and nowhere else.
func TestLeaksFindsEachKindOfExportedAPI(t *testing.T) {
	root := writeTree(t, map[string]string{
		"go.mod":            "module example.com/m\n\ngo 1.22\n",
		"internal/w/w.go":   "package w\n\ntype R struct{}\n\nfunc New() R { return R{} }\n",
		"internal/w/x/x.go": "package x\n\nimport \"example.com/m/internal/w\"\n\nfunc F(w.R) {}\n",
		"pub/pub.go": `package pub

import (
	"io"

	wire "example.com/m/internal/w"
)

func Param(r wire.R)           {}
func Result() *wire.R          { return nil }
func Generic[T wire.R | int]() {}

type T struct {
	Field  []wire.R
	hidden wire.R
	wire.R
	Nested struct {
		Inner  map[string]wire.R
		hidden wire.R
	}
}

func (T) Method(func(wire.R))   {}
func (*T) unexported(wire.R)    {}
func (unexported) Method(wire.R) {}

type unexported struct{ Field wire.R }

type I interface {
	Method(wire.R) error
	hidden(wire.R)
}

type Alias = wire.R
// Def has R's underlying struct{}, not R: nothing internal is exposed.
type Def wire.R

var Typed wire.R
var Literal = &wire.R{}
var Inferred = wire.New()
var Reader io.Reader
var hidden wire.R

// Promoted has the exported method of an unexported embedded type.
type Promoted struct{ *embedded }

type embedded struct{}

func (*embedded) Reply() wire.R { return wire.R{} }

// Reached returns an unexported type whose exported field is reached.
func Reached() *reached { return nil }

type reached struct {
	Field  wire.R
	hidden wire.R
}

type Instance = Box[wire.R]

type Box[T any] struct{ Value T }

func hiddenFunc(wire.R) {}
`,
		"pub/pub_test.go": "package pub\n\nimport \"example.com/m/internal/w\"\n\nfunc TestOnly(w.R) {}\n",
		"pub/other.go":    "//go:build ignore\n\npackage pub\n\nimport \"example.com/m/internal/w\"\n\nfunc Ignored(w.R) {}\n",
	})
	leaks, err := Leaks(goTool(t), root)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, l := range leaks {
		if l.Type != "example.com/m/internal/w.R" {
			t.Errorf("%s: type %q, want example.com/m/internal/w.R", l.API, l.Type)
		}
		got = append(got, l.API)
	}
	want := []string{
		"pub.Param", "pub.Result", "pub.Generic",
		"pub.T.Field", "pub.T.R", "pub.T.Nested.Inner",
		"pub.T.Method",
		"pub.I.Method",
		"pub.Alias",
		"pub.Typed", "pub.Literal", "pub.Inferred",
		"pub.Promoted.Reply", "pub.Reached.Field", "pub.Instance",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("leaks:\n got %q\nwant %q", got, want)
	}
}
