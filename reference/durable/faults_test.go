package durable

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/faultdisk"
)

// injector fails every call of one step whose path contains match, while
// armed, with err.
type injector struct {
	step  faultdisk.Step
	err   error
	match string
	armed atomic.Bool
	hits  atomic.Int32
}

func (in *injector) faults() *faultdisk.FS {
	return &faultdisk.FS{Base: OSFS{}, Fail: func(step faultdisk.Step, path string) error {
		if in.armed.Load() && step == in.step && strings.Contains(path, in.match) {
			in.hits.Add(1)
			return in.err
		}
		return nil
	}}
}

type mode struct {
	name    string
	journal bool
}

var modes = []mode{{"direct", false}, {"journal", true}}

func openMode(t *testing.T, m mode, root string, size int64, fsys FS) *Committer {
	t.Helper()
	c, err := OpenWith(root, Options{JournalBytes: size, Direct: !m.journal, FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	if m.journal && c.journal == nil {
		t.Skip("journal not supported on this platform")
	}
	return c
}

func writeFile(c *Committer, root, name, content string) ([]string, error) {
	return c.Write([]File{{
		TmpPath:   filepath.Join(root, "tmp", name),
		FinalName: func() (string, error) { return filepath.Join(root, "new", name), nil },
		Data:      [][]byte{[]byte(content)},
	}})
}

// names lists a directory, failing the test on error.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// crashAndReopen simulates a power loss after the test's last call: the
// journal as it is now, and the files named in lost (written since the
// last checkpoint) never reached the disk. It reopens the root, which must
// replay cleanly.
func crashAndReopen(t *testing.T, c *Committer, root string, lost ...string) *Committer {
	t.Helper()
	journalPath := filepath.Join(root, journalName)
	image, err := os.ReadFile(journalPath)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := os.WriteFile(journalPath, image, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range lost {
		os.Remove(p)
	}
	c2, err := Open(root, int64(len(image)))
	if err != nil {
		t.Fatalf("reopening after the crash: %v", err)
	}
	t.Cleanup(func() { c2.Close() })
	return c2
}

// TestWriteFailureRefusesAndRecovers makes each step of a write fail with
// a full disk and with an I/O error: the write must fail with that error,
// what it returns must be exactly what is visible, no temporary file may
// stay, the next write must succeed once the fault is gone, and a replay
// after a crash must restore the acknowledged writes and not the refused
// one.
func TestWriteFailureRefusesAndRecovers(t *testing.T) {
	steps := map[bool][]faultdisk.Step{
		false: {faultdisk.StepCreate, faultdisk.StepWrite, faultdisk.StepSync, faultdisk.StepPublish, faultdisk.StepDirSync},
		// StepCreate is absent: the pool holds inodes made before the
		// fault (TestUnnamedPoolRefillsAfterFailure covers it).
		true: {faultdisk.StepWrite, faultdisk.StepPublish, faultdisk.StepJournalWrite, faultdisk.StepJournalSync},
	}
	for _, m := range modes {
		for _, step := range steps[m.journal] {
			for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EIO} {
				t.Run(fmt.Sprintf("%s/%s/%s", m.name, step, errno), func(t *testing.T) {
					root := t.TempDir()
					mkdirs(t, root)
					in := &injector{step: step, err: errno}
					c := openMode(t, m, root, 1<<20, in.faults())
					defer func() { c.Close() }()
					if _, err := writeFile(c, root, "before", "b"); err != nil {
						t.Fatal(err)
					}
					in.armed.Store(true)
					finals, err := writeFile(c, root, "refused", "rrrrrrrr")
					in.armed.Store(false)
					if in.hits.Load() == 0 {
						t.Fatalf("step %s never ran", step)
					}
					if !errors.Is(err, errno) {
						t.Fatalf("write with a failing %s returned %v, want %v", step, err, errno)
					}
					// The contract: on error, finals are exactly the files
					// visible under their final names.
					refusedPath := filepath.Join(root, "new", "refused")
					_, statErr := os.Stat(refusedPath)
					if visible := statErr == nil; visible != slices.Contains(finals, refusedPath) {
						t.Fatalf("visible=%v but Write returned %q", visible, finals)
					}
					if tmp := names(t, filepath.Join(root, "tmp")); len(tmp) != 0 {
						t.Errorf("temporary files left: %q", tmp)
					}
					if _, err := writeFile(c, root, "after", "a"); err != nil {
						t.Fatalf("write after the fault cleared: %v", err)
					}
					if !m.journal {
						return
					}
					after := filepath.Join(root, "new", "after")
					c = crashAndReopen(t, c, root, after)
					for _, p := range []string{filepath.Join(root, "new", "before"), after} {
						if _, err := os.Stat(p); err != nil {
							t.Errorf("acknowledged %s missing after replay: %v", filepath.Base(p), err)
						}
					}
					if _, err := os.Stat(refusedPath); err == nil {
						t.Error("replay published the refused write")
					}
				})
			}
		}
	}
}

// TestRenameRemoveFailure: a failed Rename or Remove changes nothing that
// a replay would redo, and the committer keeps working.
func TestRenameRemoveFailure(t *testing.T) {
	for _, m := range modes {
		steps := []faultdisk.Step{faultdisk.StepRename, faultdisk.StepRemove}
		if m.journal {
			steps = append(steps, faultdisk.StepJournalWrite, faultdisk.StepJournalSync)
		}
		for _, step := range steps {
			t.Run(m.name+"/"+step.String(), func(t *testing.T) {
				root := t.TempDir()
				mkdirs(t, root)
				in := &injector{step: step, err: syscall.EIO}
				c := openMode(t, m, root, 1<<20, in.faults())
				defer func() { c.Close() }()
				a := filepath.Join(root, "new", "a")
				b := filepath.Join(root, "new", "b")
				for _, name := range []string{"a", "b"} {
					if _, err := writeFile(c, root, name, name); err != nil {
						t.Fatal(err)
					}
				}
				in.armed.Store(true)
				renameErr := c.Rename(a, a+"-renamed")
				removeErr := c.Remove(b)
				in.armed.Store(false)
				wantRename, wantRemove := step != faultdisk.StepRemove, step != faultdisk.StepRename
				if (renameErr != nil) != wantRename || (removeErr != nil) != wantRemove {
					t.Fatalf("Rename: %v, Remove: %v", renameErr, removeErr)
				}
				if renameErr != nil {
					if _, err := os.Stat(a); err != nil {
						t.Error("failed rename moved the file")
					}
				}
				if removeErr != nil {
					if _, err := os.Stat(b); err != nil {
						t.Error("failed remove removed the file")
					}
				}
				src := a
				if renameErr == nil {
					src = a + "-renamed"
				}
				if err := c.Rename(src, a+"-later"); err != nil {
					t.Fatalf("rename after the fault cleared: %v", err)
				}
				if !m.journal {
					return
				}
				c = crashAndReopen(t, c, root)
				if removeErr != nil {
					if _, err := os.Stat(b); err != nil {
						t.Error("replay performed the refused remove")
					}
				}
			})
		}
	}
}

// TestJournalCheckpointFailure makes the checkpoint that a full journal
// needs fail: the batch that needed it is refused, later batches succeed
// once the fault clears, and every acknowledged write survives a crash.
// A new generation must not be used before its header is committed, or a
// replay would ignore acknowledged records.
func TestJournalCheckpointFailure(t *testing.T) {
	for _, step := range []faultdisk.Step{faultdisk.StepCheckpoint, faultdisk.StepJournalHeader} {
		t.Run(step.String(), func(t *testing.T) {
			root := t.TempDir()
			mkdirs(t, root)
			in := &injector{step: step, err: syscall.EIO}
			c := openMode(t, mode{"journal", true}, root, 64<<10, in.faults())
			defer func() { c.Close() }()
			payload := strings.Repeat("x", 4<<10)
			in.armed.Store(true)
			var refused error
			for i := 0; i < 100 && refused == nil; i++ {
				_, refused = writeFile(c, root, fmt.Sprint("fill", i), payload)
			}
			in.armed.Store(false)
			if !errors.Is(refused, syscall.EIO) {
				t.Fatalf("writes through a full journal with a failing %s: %v", step, refused)
			}
			var acked []string
			for i := range 3 {
				name := fmt.Sprint("after", i)
				if _, err := writeFile(c, root, name, payload); err != nil {
					t.Fatalf("write after the fault cleared: %v", err)
				}
				acked = append(acked, filepath.Join(root, "new", name))
			}
			crashAndReopen(t, c, root, acked...)
			for _, p := range acked {
				if _, err := os.Stat(p); err != nil {
					t.Errorf("acknowledged %s lost in the crash: %v", filepath.Base(p), err)
				}
			}
		})
	}
}

// TestUnnamedPoolRefillsAfterFailure: when inodes cannot be made (a full
// disk), the pool must start filling again once they can.
func TestUnnamedPoolRefillsAfterFailure(t *testing.T) {
	dir := t.TempDir()
	in := &injector{step: faultdisk.StepCreate, err: syscall.ENOSPC}
	p := newUnnamedPool(dir, 4, in.faults())
	if p == nil {
		t.Skip("O_TMPFILE not supported here")
	}
	defer p.close()
	waitUntil(t, "the pool to fill", func() bool { return len(p.ready) == cap(p.ready) })
	in.armed.Store(true)
	for range cap(p.ready) {
		f, ok := p.get()
		if !ok {
			t.Fatal("a ready inode was not handed out")
		}
		f.Close()
	}
	if _, ok := p.get(); ok {
		t.Fatal("got an inode while creating inodes fails")
	}
	// That get made one attempt; wait for the refilling goroutine to have
	// failed too, so the test is about what it does next.
	waitUntil(t, "the pool to try to refill", func() bool { return in.hits.Load() >= 2 })
	in.armed.Store(false)
	f, ok := p.get()
	if !ok {
		t.Fatal("no inode after the fault cleared")
	}
	f.Close()
	waitUntil(t, "the pool to fill again", func() bool { return len(p.ready) == cap(p.ready) })
}

// TestReplaySkipsChangesToVanishedDirectories: a mailbox deleted after a
// write to it (a journaled rename of its directory, then an unjournaled
// removal of the files) leaves records whose directory is gone; replay
// must skip them rather than refuse to start.
func TestReplaySkipsChangesToVanishedDirectories(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root)
	box := filepath.Join(root, "box")
	mkdirs(t, box)
	c := openJournaled(t, root)
	f := writeOne(t, c, box, "m", "message")
	if err := c.Rename(f, f+":2,S"); err != nil {
		t.Fatal(err)
	}
	trash := filepath.Join(root, "trash")
	if err := c.Rename(box, trash); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(trash); err != nil {
		t.Fatal(err)
	}
	kept := writeOne(t, c, root, "kept", "kept")
	crashAndReopen(t, c, root, kept)
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("record after the vanished directory not replayed: %v", err)
	}
}

// TestReplaySkipsFailedRename: a rename of a file already gone fails when
// made, but its record is committed; when the checkpoint that would retire
// it fails too and the server crashes, the replay meets it again and must
// not refuse to start.
func TestReplaySkipsFailedRename(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root)
	in := &injector{step: faultdisk.StepCheckpoint, err: syscall.EIO}
	c := openMode(t, mode{"journal", true}, root, 1<<20, in.faults())
	kept := writeOne(t, c, root, "kept", "kept")
	missing := filepath.Join(root, "new", "missing")
	in.armed.Store(true)
	if err := c.Rename(missing, missing+"-renamed"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("renaming a missing file: %v", err)
	}
	if in.hits.Load() == 0 {
		t.Fatal("no checkpoint was tried after the failed rename")
	}
	in.armed.Store(false)
	crashAndReopen(t, c, root, kept)
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("acknowledged write not replayed: %v", err)
	}
}

// TestJournalReplayAfterWrap: the batch that fills the journal triggers a
// checkpoint; its records and the later ones must carry the new generation,
// or a crash before the next checkpoint loses acknowledged writes.
func TestJournalReplayAfterWrap(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root)
	c := openMode(t, mode{"journal", true}, root, 64<<10, nil)
	payload := strings.Repeat("x", 4<<10)
	gen := c.journal.generation
	var sinceCheckpoint []string
	for i := 0; i < 100 && (c.journal.generation < gen+2 || len(sinceCheckpoint) < 3); i++ {
		before := c.journal.generation
		finals, err := writeFile(c, root, fmt.Sprint("m", i), payload)
		if err != nil {
			t.Fatal(err)
		}
		if c.journal.generation != before {
			sinceCheckpoint = nil
		}
		sinceCheckpoint = append(sinceCheckpoint, finals...)
	}
	if c.journal.generation < gen+2 || len(sinceCheckpoint) < 2 {
		t.Fatalf("no two checkpoints (generation %d → %d), or nothing after one", gen, c.journal.generation)
	}
	crashAndReopen(t, c, root, sinceCheckpoint...)
	for _, p := range sinceCheckpoint {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("acknowledged %s lost in the crash: %v", filepath.Base(p), err)
		}
	}
}

// TestFailedAppendNotReplayedAfterLaterBatch: a batch of two records is
// written whole but its fdatasync fails, and the checkpoint that would
// retire it does not happen (here: append is called without the run loop,
// as when that checkpoint fails too). A later batch the size of the first
// record overwrites only that one; the second, refused, must not be
// replayed after it.
func TestFailedAppendNotReplayedAfterLaterBatch(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root)
	in := &injector{step: faultdisk.StepJournalSync, err: syscall.EIO}
	c := openMode(t, mode{"journal", true}, root, 1<<20, in.faults())
	j := c.journal
	newOp := func(name string) *op {
		return &op{kind: opWrite, path: filepath.Join(root, "new", name), data: [][]byte{[]byte("payload")}}
	}
	// The run loop is idle: the test goroutine owns the journal's state
	// until it queues the next op.
	in.armed.Store(true)
	if err := j.append([]*op{newOp("a1"), newOp("b1")}); err == nil {
		t.Fatal("append with a failing fdatasync succeeded")
	}
	in.armed.Store(false)
	later := filepath.Join(root, "new", "c1")
	if _, err := writeFile(c, root, "c1", "payload"); err != nil {
		t.Fatal(err)
	}
	crashAndReopen(t, c, root, later)
	if _, err := os.Stat(later); err != nil {
		t.Errorf("acknowledged write lost: %v", err)
	}
	for _, name := range []string{"a1", "b1"} {
		if _, err := os.Stat(filepath.Join(root, "new", name)); err == nil {
			t.Errorf("refused record %s replayed", name)
		}
	}
}

// TestApplyFallbackCleansUp: where unnamed files are not available, a
// write is applied through a temporary name; a failure at any step must
// not leave that name behind.
func TestApplyFallbackCleansUp(t *testing.T) {
	for _, step := range []faultdisk.Step{faultdisk.StepCreate, faultdisk.StepWrite, faultdisk.StepPublish} {
		t.Run(step.String(), func(t *testing.T) {
			root := t.TempDir()
			mkdirs(t, root)
			in := &injector{step: step, err: syscall.ENOSPC}
			in.armed.Store(true)
			o := &op{kind: opWrite, path: filepath.Join(root, "new", "m"), tmp: filepath.Join(root, "tmp", "m"), data: [][]byte{[]byte("data")}}
			if err := o.apply(nil, in.faults()); !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("apply = %v", err)
			}
			for _, sub := range []string{"tmp", "new"} {
				if left := names(t, filepath.Join(root, sub)); len(left) != 0 {
					t.Errorf("%s/ holds %q after a failed apply", sub, left)
				}
			}
		})
	}
}

// waitUntil polls cond, for at most 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestJournalCreationFailureLeavesNoJournal: a failure at any step of
// making the journal at first start fails Open, and the next Open (the
// disk writable again) works: no half-made journal is left under the
// journal's name to be taken for a corrupt one.
func TestJournalCreationFailureLeavesNoJournal(t *testing.T) {
	for _, step := range []faultdisk.Step{faultdisk.StepCreate, faultdisk.StepJournalWrite, faultdisk.StepJournalHeader, faultdisk.StepJournalSync, faultdisk.StepPublish} {
		t.Run(step.String(), func(t *testing.T) {
			root := t.TempDir()
			mkdirs(t, root)
			in := &injector{step: step, err: syscall.EIO}
			in.armed.Store(true)
			if c, err := OpenWith(root, Options{JournalBytes: 1 << 20, FS: in.faults()}); err == nil {
				c.Close()
				if !journalSupported {
					t.Skip("journal not supported on this platform")
				}
				t.Fatalf("Open succeeded with a failing %s", step)
			} else if !errors.Is(err, syscall.EIO) {
				t.Fatalf("Open = %v, want EIO", err)
			}
			c := openJournaled(t, root)
			a := writeOne(t, c, root, "a", "alpha")
			crashAndReopen(t, c, root, a)
			if _, err := os.Stat(a); err != nil {
				t.Errorf("write not replayed after the journal was made anew: %v", err)
			}
		})
	}
}

// TestZeroJournalStartsAfresh: a journal of zeros throughout (made, header
// never written) cannot hold a committed record, so Open starts afresh;
// one with records behind a zeroed header still refuses to start.
func TestZeroJournalStartsAfresh(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root)
	path := filepath.Join(root, journalName)
	if err := os.WriteFile(path, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	c := openJournaled(t, root)
	a := writeOne(t, c, root, "a", "alpha")
	image, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	clear(image[:journalHeaderSize])
	if err := os.WriteFile(path, image, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(a)
	if c, err := Open(root, 1<<20); err == nil {
		c.Close()
		t.Fatal("opened a journal whose header is zeroed but which holds records")
	}
}
