package durable

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestWritePublishesAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	c := New()
	final := filepath.Join(dir, "final")
	finals, err := c.Write([]File{{
		TmpPath:   filepath.Join(dir, "tmp1"),
		FinalName: func() (string, error) { return final, nil },
		Data:      [][]byte{[]byte("a"), []byte("b")},
	}})
	if err != nil || len(finals) != 1 || finals[0] != final {
		t.Fatalf("Write = %v, %v", finals, err)
	}
	if data, _ := os.ReadFile(final); string(data) != "ab" {
		t.Errorf("final holds %q", data)
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp1")); !os.IsNotExist(err) {
		t.Error("temporary name left behind")
	}
	// A failing rename leaves no temporary file.
	_, err = c.Write([]File{{
		TmpPath:   filepath.Join(dir, "tmp2"),
		FinalName: func() (string, error) { return filepath.Join(dir, "missing", "x"), nil },
		Data:      [][]byte{[]byte("x")},
	}})
	if err == nil {
		t.Fatal("rename into a missing directory succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp2")); !os.IsNotExist(err) {
		t.Error("temporary file left after a failed write")
	}
}

func TestGroupCommitConcurrent(t *testing.T) {
	dir := t.TempDir()
	c := New()
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				name := fmt.Sprintf("%d-%d", w, i)
				if err := c.WriteFile(filepath.Join(dir, name), []byte(name)); err != nil {
					t.Error(err)
				}
			}
		}(w)
	}
	wg.Wait()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 16*20 {
		t.Errorf("%d files, want %d", len(entries), 16*20)
	}
	s := c.dirs[dir]
	if s.synced != s.requested {
		t.Errorf("synced %d of %d requests", s.synced, s.requested)
	}
}
