package durable

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func openJournaled(t *testing.T, root string) *Committer {
	t.Helper()
	c, err := Open(root, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if c.journal == nil {
		t.Skip("journal not supported on this platform")
	}
	return c
}

func writeOne(t *testing.T, c *Committer, dir, name, content string) string {
	t.Helper()
	finals, err := c.Write([]File{{
		TmpPath:   filepath.Join(dir, "tmp", name),
		FinalName: func() (string, error) { return filepath.Join(dir, "new", name), nil },
		Data:      [][]byte{[]byte(content)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return finals[0]
}

func mkdirs(t *testing.T, dir string) {
	for _, sub := range []string{"tmp", "new"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
}

// TestJournalReplayRestoresChanges simulates a power loss: the journal holds
// committed records, but the files they describe never reached the disk.
// Open must replay them, in order.
func TestJournalReplayRestoresChanges(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root)
	c := openJournaled(t, root)
	a := writeOne(t, c, root, "a", "alpha")
	b := writeOne(t, c, root, "b", "bravo")
	d := writeOne(t, c, root, "d", "delta")
	renamed := filepath.Join(root, "new", "b-renamed")
	if err := c.Rename(b, renamed); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(d); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFile(filepath.Join(root, "state"), []byte("v2")); err != nil {
		t.Fatal(err)
	}
	journalPath := filepath.Join(root, journalName)
	crashImage, err := os.ReadFile(journalPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Roll the disk back to the crash: the journal as it was, the applied
	// files lost.
	os.WriteFile(journalPath, crashImage, 0o600)
	for _, p := range []string{a, renamed, filepath.Join(root, "state")} {
		os.Remove(p)
	}
	os.WriteFile(d, []byte("delta"), 0o600) // a removal that did not reach the disk

	c2 := openJournaled(t, root)
	defer c2.Close()
	for path, want := range map[string]string{a: "alpha", renamed: "bravo", filepath.Join(root, "state"): "v2"} {
		if got, err := os.ReadFile(path); err != nil || string(got) != want {
			t.Errorf("%s after replay: %q, %v; want %q", filepath.Base(path), got, err, want)
		}
	}
	for _, gone := range []string{b, d} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("%s exists after replay", filepath.Base(gone))
		}
	}
	// A second replay of the same generation changes nothing: the journal
	// was checkpointed, so reopening finds no records.
	c2.Close()
	c3 := openJournaled(t, root)
	defer c3.Close()
	if got, _ := os.ReadFile(a); string(got) != "alpha" {
		t.Errorf("after a second open: %q", got)
	}
}

// TestJournalTornRecordIgnored: a record cut short by the crash was never
// acknowledged and must not be applied; the records before it must be.
func TestJournalTornRecordIgnored(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root)
	c := openJournaled(t, root)
	a := writeOne(t, c, root, "a", "alpha")
	offsetAfterA := c.journal.offset
	b := writeOne(t, c, root, "b", "bravo")
	journalPath := filepath.Join(root, journalName)
	image, _ := os.ReadFile(journalPath)
	c.Close()
	image[offsetAfterA+recordHeaderSize+3] ^= 0xff // corrupt b's record
	os.WriteFile(journalPath, image, 0o600)
	os.Remove(a)
	os.Remove(b)
	c2 := openJournaled(t, root)
	defer c2.Close()
	if _, err := os.Stat(a); err != nil {
		t.Errorf("intact record not replayed: %v", err)
	}
	if _, err := os.Stat(b); !os.IsNotExist(err) {
		t.Errorf("torn record replayed")
	}
}

func TestJournalCorruptHeaderRefusesToStart(t *testing.T) {
	root := t.TempDir()
	c := openJournaled(t, root)
	c.Close()
	path := filepath.Join(root, journalName)
	image, _ := os.ReadFile(path)
	image[9] ^= 0xff
	os.WriteFile(path, image, 0o600)
	if _, err := Open(root, 1<<20); err == nil {
		t.Fatal("opened a journal with a corrupt header")
	}
}

// TestJournalWrapsWithCheckpoints writes far more than the journal holds.
func TestJournalWrapsWithCheckpoints(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root)
	c := openJournaled(t, root)
	defer c.Close()
	gen := c.journal.generation
	payload := make([]byte, 8<<10)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				name := fmt.Sprintf("%d-%d", w, i)
				if _, err := c.Write([]File{{
					TmpPath:   filepath.Join(root, "tmp", name),
					FinalName: func() (string, error) { return filepath.Join(root, "new", name), nil },
					Data:      [][]byte{payload},
				}}); err != nil {
					t.Error(err)
				}
			}
		}(w)
	}
	wg.Wait()
	entries, _ := os.ReadDir(filepath.Join(root, "new"))
	if len(entries) != 400 {
		t.Errorf("%d files, want 400", len(entries))
	}
	if c.journal.generation <= gen+1 {
		t.Errorf("3 MiB through a 1 MiB journal made no checkpoint (generation %d → %d)", gen, c.journal.generation)
	}
}

// TestJournalAppliesInNamingOrder: names handed out in order under a Locker
// (IMAP UIDs) become visible in that order.
func TestJournalAppliesInNamingOrder(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root)
	c := openJournaled(t, root)
	defer c.Close()
	var applied []string
	c.journal.applied = func(path string) { applied = append(applied, filepath.Base(path)) }
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				tmp := filepath.Join(root, "tmp", fmt.Sprintf("t%d-%d", w, i))
				c.Write([]File{{
					TmpPath: tmp,
					Locker:  &mu,
					FinalName: func() (string, error) {
						next++
						return filepath.Join(root, "new", fmt.Sprintf("%04d", next)), nil
					},
					Data: [][]byte{[]byte("x")},
				}})
			}
		}()
	}
	wg.Wait()
	c.Close() // stops the loop, so reading applied is race-free
	for i := 1; i < len(applied); i++ {
		if applied[i] <= applied[i-1] {
			t.Fatalf("applied out of naming order: %s after %s", applied[i], applied[i-1])
		}
	}
	if len(applied) != 160 {
		t.Errorf("%d applied", len(applied))
	}
}

func BenchmarkJournalWrite(b *testing.B) {
	root := b.TempDir()
	os.MkdirAll(filepath.Join(root, "tmp"), 0o700)
	os.MkdirAll(filepath.Join(root, "new"), 0o700)
	c, _ := Open(root, 0)
	defer c.Close()
	payload := make([]byte, 1024)
	var n sync.Mutex
	i := 0
	b.SetBytes(1024)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n.Lock()
			i++
			name := fmt.Sprint(i)
			n.Unlock()
			c.Write([]File{{
				TmpPath:   filepath.Join(root, "tmp", name),
				FinalName: func() (string, error) { return filepath.Join(root, "new", name), nil },
				Data:      [][]byte{payload},
			}})
		}
	})
}
