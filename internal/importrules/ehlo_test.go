package importrules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ehloWriters are the files outside smtp/smtpclient that may write EHLO
// or LHLO as a command: the suite's checks whose subject is EHLO itself,
// which send it raw (a second EHLO, EHLO in any case, EHLO after
// STARTTLS pipelined). Everyone else says hello through the client core.
var ehloWriters = []string{
	"conformance/smtpsuite/greeting.go", // smtp.ehlo.accepted, EHLO in any case, the multi-line EHLO reply
	"conformance/smtpsuite/sequence.go", // smtp.sequence.ehlo-resets: EHLO inside a transaction
	"conformance/smtpsuite/starttls.go", // EHLO pipelined after STARTTLS
}

// ehloCommand matches a string literal that is an EHLO or LHLO command:
// the verb and a space, to be followed by the client's name, or a whole
// line ending in CRLF.
var ehloCommand = regexp.MustCompile(`(?is)^(ehlo|lhlo)( |( .*)?\r\n)$`)

// TestOneSMTPClientCore asserts that no non-test Go file outside
// smtp/smtpclient writes EHLO or LHLO as a command, but the server
// (reference/smtpserver reads them) and the listed suite files: a second
// copy of the client's session start would drift from the core (issue 14).
func TestOneSMTPClientCore(t *testing.T) {
	root := moduleRoot(t)
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "smtp/smtpclient" || rel == "reference/smtpserver" || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		lits := ehloLiterals(t, path, nil)
		switch {
		case slices.Contains(ehloWriters, rel):
			seen[rel] = len(lits) > 0
		case len(lits) > 0:
			t.Errorf("%s writes %q: say EHLO through smtp/smtpclient (Client.Hello)", rel, lits)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ehloWriters {
		if !seen[f] {
			t.Errorf("%s is listed as writing EHLO itself and does not: take it off the list", f)
		}
	}
}

// TestEHLOLiteralsFound proves the finder on made-up sources: a test that
// cannot fail would prove nothing.
func TestEHLOLiteralsFound(t *testing.T) {
	src := []byte("package x\nvar a = \"EHLO \" + name\nvar b = []byte(\"lhlo x\\r\\n\")\n" +
		"var c = \"EHLO name (default: localhost)\"\nvar d = map[string]bool{\"EHLO\": true}\n")
	got := ehloLiterals(t, "x.go", src)
	if strings.Join(got, "|") != "EHLO |lhlo x\r\n" {
		t.Errorf("found %q, want the two commands only", got)
	}
}

// ehloLiterals returns the string literals of a Go file (src, or read
// from path) that are EHLO or LHLO commands.
func ehloLiterals(t *testing.T, path string, src []byte) []string {
	t.Helper()
	var from any // a nil []byte would be read as an empty file
	if src != nil {
		from = src
	}
	f, err := parser.ParseFile(token.NewFileSet(), path, from, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil && ehloCommand.MatchString(s) {
				found = append(found, s)
			}
		}
		return true
	})
	return found
}

// moduleRoot is the directory of go.mod, two levels up from this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}
