// Package faultdisk makes chosen storage steps of a durable.Committer fail,
// so tests can show what the reference server does when the disk fills up,
// fails or turns read-only without filling or breaking a real disk. It is a
// durable.FS over another (durable.OSFS{}): the server's code stays the
// correct one. It is test-only: nothing the mailcheck binary links imports
// it.
//
// It does not import durable, so that durable's own tests can use it: Disk
// repeats durable.FS.
package faultdisk

import (
	"io/fs"
	"os"
	"sync"
)

// Disk is durable.FS.
type Disk interface {
	OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error)
	Mkdir(name string, perm fs.FileMode) error
	Write(f *os.File, b []byte) (int, error)
	WriteAt(f *os.File, b []byte, off int64) (int, error)
	Sync(f *os.File) error
	Datasync(f *os.File) error
	SyncFS(f *os.File) error
	SyncDir(dir string) error
	Rename(oldpath, newpath string) error
	Remove(name string) error
	OpenUnnamed(dir string) (*os.File, error)
	Link(f *os.File, newpath string) error
}

// FS is a Disk whose steps fail when Fail says so.
type FS struct {
	// Base does the work. Required: durable.OSFS{}.
	Base Disk
	// Fail is called before each step with the path it concerns (a file's
	// temporary or final name, a directory, the journal). A non-nil error,
	// typically a syscall.Errno such as ENOSPC or EIO, makes the step fail
	// as the system call would, wrapped in an *os.PathError. A data write
	// first writes part of its data, as a short write on a full disk does.
	// Fail is called from many goroutines at once.
	Fail func(step Step, path string) error

	mu    sync.Mutex
	files map[*os.File]*file
	temps map[string]bool // names created, not yet renamed: temporary names
}

// file is what FS knows of an open file.
type file struct {
	unnamed bool // opened by OpenUnnamed: its name comes with Link
	written bool // written to: the write step was judged, or (unnamed) is due
	journal bool // written at offsets: the journal
	header  bool // the last write was the journal's header
	linked  bool // Link judged its steps
}

var _ Disk = (*FS)(nil)

// fail returns the injected error for step, nil when there is none.
func (d *FS) fail(step Step, path string) error {
	if d.Fail == nil {
		return nil
	}
	if err := d.Fail(step, path); err != nil {
		return &os.PathError{Op: step.String() + " (injected)", Path: path, Err: err}
	}
	return nil
}

// state returns what FS knows of f, under d.mu.
func (d *FS) state(f *os.File) *file {
	if d.files == nil {
		d.files = make(map[*os.File]*file)
	}
	st := d.files[f]
	if st == nil {
		st = &file{}
		d.files[f] = st
	}
	return st
}

// isTemp reports whether name was created through d and not yet renamed.
func (d *FS) isTemp(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.temps[name]
}
