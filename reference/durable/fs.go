package durable

import (
	"io/fs"
	"os"
)

// FS is the file system a Committer changes: every creation, write, sync,
// rename, link and removal it makes goes through it (reads go to the os
// package). OSFS, the default, is the operating system's. An embedder can
// wrap it to count or time the flushes, or to see in its own tests what
// the server does when the disk fills up or fails (return the error the
// system call would, a syscall.Errno such as ENOSPC or EIO).
//
// Its methods are called from many goroutines at once.
type FS interface {
	// OpenFile is os.OpenFile.
	OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error)
	// Mkdir is os.Mkdir.
	Mkdir(name string, perm fs.FileMode) error
	// Write writes b to f at its offset (f.Write).
	Write(f *os.File, b []byte) (int, error)
	// WriteAt writes b to f at off (f.WriteAt); the journal is written so.
	WriteAt(f *os.File, b []byte, off int64) (int, error)
	// Sync flushes f's data and metadata (fsync).
	Sync(f *os.File) error
	// Datasync flushes f's data and what is needed to read it back
	// (fdatasync): the journal's commit.
	Datasync(f *os.File) error
	// SyncFS flushes the whole file system holding f (syncfs): the
	// journal's checkpoint.
	SyncFS(f *os.File) error
	// SyncDir flushes the directory dir, so the names made or removed in
	// it survive a crash.
	SyncDir(dir string) error
	// Rename is os.Rename.
	Rename(oldpath, newpath string) error
	// Remove is os.Remove.
	Remove(name string) error
	// OpenUnnamed opens a file without a name in dir (O_TMPFILE), or
	// fails where the file system cannot.
	OpenUnnamed(dir string) (*os.File, error)
	// Link gives f, opened by OpenUnnamed, the name newpath.
	Link(f *os.File, newpath string) error
}

// OSFS is the operating system's file system.
type OSFS struct{}

var _ FS = OSFS{}

// OpenFile is os.OpenFile.
func (OSFS) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag, perm)
}

// Mkdir is os.Mkdir.
func (OSFS) Mkdir(name string, perm fs.FileMode) error { return os.Mkdir(name, perm) }

// Write is f.Write.
func (OSFS) Write(f *os.File, b []byte) (int, error) { return f.Write(b) }

// WriteAt is f.WriteAt.
func (OSFS) WriteAt(f *os.File, b []byte, off int64) (int, error) { return f.WriteAt(b, off) }

// Sync is f.Sync.
func (OSFS) Sync(f *os.File) error { return f.Sync() }

// Datasync is fdatasync(2) where there is one, else f.Sync.
func (OSFS) Datasync(f *os.File) error { return fdatasync(f) }

// SyncFS is syncfs(2); it fails where there is none.
func (OSFS) SyncFS(f *os.File) error { return syncfs(f) }

// SyncDir opens dir and fsyncs it.
func (OSFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Rename is os.Rename.
func (OSFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove is os.Remove.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// OpenUnnamed opens an O_TMPFILE file in dir (Linux); elsewhere it fails
// with errors.ErrUnsupported.
func (OSFS) OpenUnnamed(dir string) (*os.File, error) { return openUnnamed(dir) }

// Link names an unnamed file with linkat(2) through /proc/self/fd.
func (OSFS) Link(f *os.File, newpath string) error { return linkUnnamed(f, newpath) }
