// Package durable writes, renames and removes files so that the change
// survives a crash from the moment the call returns, and so that no reader
// ever sees a half-written file: data is written under a temporary name and
// renamed into place.
//
// A Committer works in one of two modes:
//
//   - Direct (New): each file's data is fsync'd before its rename, and the
//     directory after it. Directory fsyncs are group-committed: every rename
//     made before a directory fsync started is covered by it, so concurrent
//     writers share one.
//   - Journaled (Open, Linux): every change is first appended to a
//     preallocated write-ahead journal, and one fdatasync commits a whole
//     batch of changes from all concurrent writers (group commit) before
//     they are applied to the file system. Overwriting preallocated blocks
//     needs no file-system journal commit, so a batch costs one disk flush
//     instead of two ext4 journal commits per file. Applied files are made
//     durable at checkpoints (syncfs), after which the journal is reused; at
//     start-up, Open replays the journal since the last checkpoint.
//
// A failed step (a full disk: ENOSPC; a bad one: EIO) fails the call with
// the system's error, leaves no half-written file visible and does not
// poison later calls: in journaled mode, the records of refused changes
// are retired by a checkpoint before the caller hears of the failure, and
// no record is appended until a checkpoint has succeeded. Every change
// goes through an FS (Options.FS), the operating system's by default.
package durable

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// File is one file to publish durably.
type File struct {
	// TmpPath is where the data is written first. It must be on the same
	// file system as the final name, and must not exist.
	TmpPath string
	// FinalName returns the final path. It is called just before the rename,
	// so a caller can assign ordered names (IMAP UIDs) at publication time.
	FinalName func() (string, error)
	// Locker, when set, is held across FinalName and the rename, so names
	// assigned in order become visible in that order.
	Locker sync.Locker
	// Published, when set, is called once the file is visible under its
	// final name, before Write returns. Calls come in naming order (the
	// order of FinalName calls under the same Locker), so an index built
	// from them stays sorted.
	Published func(final string)
	// Data is written in order; the chunks are concatenated.
	Data [][]byte
}

// Committer makes file changes durable. The zero value is not usable; use
// New or Open.
type Committer struct {
	mu   sync.Mutex
	dirs map[string]*dirSyncer

	journal *journal // nil in direct mode
	fs      FS
}

// New returns a Committer in direct mode, on the operating system's file
// system.
func New() *Committer {
	return newCommitter(OSFS{})
}

func newCommitter(fsys FS) *Committer {
	return &Committer{dirs: make(map[string]*dirSyncer), fs: fsys}
}

// Write publishes every file: write and fsync each temporary file, rename
// each into its final name, then fsync each distinct directory once. When it
// returns nil, every file is on stable storage under its final name. On
// error, no temporary file stays and the paths returned are exactly the
// files left visible under their final names (renamed before the failure,
// or applied from the journal): a caller that refuses the whole write takes
// them back, a duplicate being better than a loss if it cannot.
func (c *Committer) Write(files []File) (finals []string, err error) {
	if c.journal != nil && c.journal.fits(files) {
		return c.journal.write(files)
	}
	handles := make([]*os.File, 0, len(files))
	cleanup := func() {
		for i, f := range handles {
			f.Close()
			if i >= len(finals) {
				c.fs.Remove(files[i].TmpPath)
			}
		}
	}
	for _, file := range files {
		f, err := c.fs.OpenFile(file.TmpPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			cleanup()
			return nil, err
		}
		handles = append(handles, f)
		if err := writeChunks(c.fs, f, file.Data); err != nil {
			cleanup()
			return nil, err
		}
	}
	// fsync the data of every file before any rename: a name must never
	// point at data that a crash could lose.
	for _, f := range handles {
		if err := c.fs.Sync(f); err != nil {
			cleanup()
			return nil, fmt.Errorf("fsync %s: %w", f.Name(), err)
		}
	}
	dirs := make([]string, 0, 1)
	for _, file := range files {
		final, err := c.publish(file)
		if err != nil {
			cleanup()
			return finals, err
		}
		finals = append(finals, final)
		dir := filepath.Dir(final)
		if !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	for _, f := range handles {
		f.Close()
	}
	for _, dir := range dirs {
		if err := c.SyncDir(dir); err != nil {
			return finals, err
		}
	}
	return finals, nil
}

// publish renames file's temporary name to its final name.
func (c *Committer) publish(file File) (string, error) {
	unlock := func() {}
	if file.Locker != nil {
		file.Locker.Lock()
		unlock = file.Locker.Unlock
	}
	final, err := file.FinalName()
	if err != nil {
		unlock()
		return "", err
	}
	if c.journal != nil {
		// A file too big for the journal, but the Committer journals
		// others: files named before it under the same Locker may still
		// wait in the journal. Renaming through the journal, behind them,
		// keeps Published in naming order; renaming at once would publish
		// this file first, and an index of IMAP UIDs out of order. The
		// data is already fsync'd, and Write fsyncs the directory after.
		o := &op{kind: opRename, from: file.TmpPath, path: final, published: file.Published,
			req: &request{remaining: 1, done: make(chan struct{})}}
		err := c.journal.enqueue(o)
		unlock()
		if err != nil {
			return "", err
		}
		<-o.req.done
		if o.req.err != nil {
			return "", o.req.err
		}
		return final, nil
	}
	defer unlock()
	if err := c.fs.Rename(file.TmpPath, final); err != nil {
		return "", err
	}
	if file.Published != nil {
		file.Published(final)
	}
	return final, nil
}

// Remove deletes a file and fsyncs its directory (group-committed).
func (c *Committer) Remove(path string) error {
	if c.journal != nil {
		return c.journal.commit([]*op{{kind: opRemove, path: path}})
	}
	if err := c.fs.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return c.SyncDir(filepath.Dir(path))
}

// Rename renames a file and fsyncs both directories (group-committed).
func (c *Committer) Rename(from, to string) error {
	if c.journal != nil {
		return c.journal.commit([]*op{{kind: opRename, from: from, path: to}})
	}
	if err := c.fs.Rename(from, to); err != nil {
		return err
	}
	if err := c.SyncDir(filepath.Dir(to)); err != nil {
		return err
	}
	if filepath.Dir(from) != filepath.Dir(to) {
		return c.SyncDir(filepath.Dir(from))
	}
	return nil
}

// WriteFile replaces path atomically and durably with data (write a
// temporary sibling, fsync, rename, fsync the directory).
func (c *Committer) WriteFile(path string, data []byte) error {
	tmp := path + ".tmp"
	c.fs.Remove(tmp)
	_, err := c.Write([]File{{
		TmpPath:   tmp,
		FinalName: func() (string, error) { return path, nil },
		Data:      [][]byte{data},
	}})
	return err
}

// SyncDir fsyncs the directory dir. Callers that arrive while an fsync of dir
// is running wait for the next one, which covers all of them at once.
func (c *Committer) SyncDir(dir string) error {
	c.mu.Lock()
	s := c.dirs[dir]
	if s == nil {
		s = &dirSyncer{path: dir, fs: c.fs}
		s.cond = sync.NewCond(&s.mu)
		c.dirs[dir] = s
	}
	c.mu.Unlock()
	return s.sync()
}

// MkdirAll creates dir and its parents and makes the new entries durable.
func (c *Committer) MkdirAll(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := c.MkdirAll(parent); err != nil {
			return err
		}
	}
	if err := c.fs.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return c.SyncDir(parent)
}

// dirSyncer group-commits fsyncs of one directory.
type dirSyncer struct {
	path string
	fs   FS
	mu   sync.Mutex
	cond *sync.Cond
	// requested counts sync requests; synced is the highest request number
	// that a completed fsync is known to cover.
	requested, synced uint64
	running           bool
}

func (s *dirSyncer) sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requested++
	mine := s.requested
	for s.synced < mine {
		if s.running {
			s.cond.Wait()
			continue
		}
		// Every request numbered up to target made its rename before this
		// fsync starts, so this fsync covers all of them.
		s.running = true
		target := s.requested
		s.mu.Unlock()
		err := s.fs.SyncDir(s.path)
		s.mu.Lock()
		s.running = false
		if err != nil {
			s.cond.Broadcast()
			return fmt.Errorf("fsync directory %s: %w", s.path, err)
		}
		s.synced = target
		s.cond.Broadcast()
	}
	return nil
}

// writeChunks writes data to f in order.
func writeChunks(fsys FS, f *os.File, data [][]byte) error {
	for _, chunk := range data {
		if _, err := fsys.Write(f, chunk); err != nil {
			return err
		}
	}
	return nil
}
