package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxCommandLines bounds the Go code of the command layer (issue 14): it
// wires flags to the library packages, calls them and prints; grammars,
// decoding, merging and every other piece of logic live in the packages,
// where they are tested. A command that needs more is a library that
// needs more.
const maxCommandLines = 1500

// TestCommandLayerIsThin counts the lines of this package's non-test Go
// files.
func TestCommandLayerIsThin(t *testing.T) {
	lines, err := goLines(".")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range lines {
		total += n
	}
	if total >= maxCommandLines {
		t.Errorf("cmd/mailcheck has %d lines of Go outside its tests, want under %d: move logic into the library packages (%v)", total, maxCommandLines, lines)
	}
}

// goLines returns the line count of each non-test .go file in dir.
func goLines(dir string) (map[string]int, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	lines := map[string]int{}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		lines[filepath.Base(p)] = bytes.Count(data, []byte("\n"))
	}
	return lines, nil
}
