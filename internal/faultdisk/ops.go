package faultdisk

import (
	"io/fs"
	"os"
)

// headerSize is the size of the journal's header (durable's
// journalHeaderSize): a write of that size at offset 0 commits a new
// generation.
const headerSize = 4096

// OpenFile creates (StepCreate) or opens a file.
func (d *FS) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	creates := flag&os.O_CREATE != 0
	if creates {
		if err := d.fail(StepCreate, name); err != nil {
			return nil, err
		}
	}
	f, err := d.Base.OpenFile(name, flag, perm)
	if err == nil && creates {
		d.mu.Lock()
		if d.temps == nil {
			d.temps = make(map[string]bool)
		}
		d.temps[name] = true
		d.mu.Unlock()
	}
	return f, err
}

// Mkdir creates a directory (StepCreate).
func (d *FS) Mkdir(name string, perm fs.FileMode) error {
	if err := d.fail(StepCreate, name); err != nil {
		return err
	}
	return d.Base.Mkdir(name, perm)
}

// OpenUnnamed creates an unnamed inode in dir (StepCreate).
func (d *FS) OpenUnnamed(dir string) (*os.File, error) {
	if err := d.fail(StepCreate, dir); err != nil {
		return nil, err
	}
	f, err := d.Base.OpenUnnamed(dir)
	if err == nil {
		d.mu.Lock()
		d.state(f).unnamed = true
		d.mu.Unlock()
	}
	return f, err
}

// Write writes a file's data: its first write is the file's StepWrite.
func (d *FS) Write(f *os.File, b []byte) (int, error) {
	d.mu.Lock()
	st := d.state(f)
	judge := !st.written && !st.unnamed
	st.written = true
	d.mu.Unlock()
	if judge {
		if err := d.fail(StepWrite, f.Name()); err != nil {
			// A full disk takes part of a write before it refuses the
			// rest: whoever cleans up must cope with a partial file.
			d.Base.Write(f, b[:len(b)/2])
			return 0, err
		}
	}
	return d.Base.Write(f, b)
}

// WriteAt writes the journal: a header (StepJournalHeader) or records and
// preallocation (StepJournalWrite).
func (d *FS) WriteAt(f *os.File, b []byte, off int64) (int, error) {
	header := off == 0 && len(b) == headerSize
	d.mu.Lock()
	st := d.state(f)
	st.journal, st.header = true, header
	d.mu.Unlock()
	if header {
		if err := d.fail(StepJournalHeader, f.Name()); err != nil {
			return 0, err
		}
		return d.Base.WriteAt(f, b, off)
	}
	if err := d.fail(StepJournalWrite, f.Name()); err != nil {
		// A torn write: the first half reaches the file.
		d.Base.WriteAt(f, b[:len(b)/2], off)
		return 0, err
	}
	return d.Base.WriteAt(f, b, off)
}

// Sync is a file's fsync (StepSync), or a new journal's (StepJournalSync).
func (d *FS) Sync(f *os.File) error {
	d.mu.Lock()
	step := StepSync
	if d.state(f).journal {
		step = StepJournalSync
	}
	d.mu.Unlock()
	if err := d.fail(step, f.Name()); err != nil {
		return err
	}
	return d.Base.Sync(f)
}

// Datasync commits the journal's appended records (StepJournalSync); the
// commit of a header is part of StepJournalHeader.
func (d *FS) Datasync(f *os.File) error {
	d.mu.Lock()
	header := d.state(f).header
	d.mu.Unlock()
	if !header {
		if err := d.fail(StepJournalSync, f.Name()); err != nil {
			return err
		}
	}
	return d.Base.Datasync(f)
}

// SyncFS is the journal's checkpoint (StepCheckpoint).
func (d *FS) SyncFS(f *os.File) error {
	if err := d.fail(StepCheckpoint, f.Name()); err != nil {
		return err
	}
	return d.Base.SyncFS(f)
}

// SyncDir fsyncs a directory (StepDirSync).
func (d *FS) SyncDir(dir string) error {
	if err := d.fail(StepDirSync, dir); err != nil {
		return err
	}
	return d.Base.SyncDir(dir)
}

// Rename publishes a temporary name (StepPublish) or renames a file
// (StepRename); the step concerns the new name.
func (d *FS) Rename(oldpath, newpath string) error {
	step := StepRename
	if d.isTemp(oldpath) {
		step = StepPublish
	}
	if err := d.fail(step, newpath); err != nil {
		return err
	}
	if err := d.Base.Rename(oldpath, newpath); err != nil {
		return err
	}
	d.mu.Lock()
	delete(d.temps, oldpath)
	d.mu.Unlock()
	return nil
}

// Remove removes a file (StepRemove); a temporary name being cleaned up
// is removed as it is.
func (d *FS) Remove(name string) error {
	if d.isTemp(name) {
		d.mu.Lock()
		delete(d.temps, name)
		d.mu.Unlock()
		return d.Base.Remove(name)
	}
	if err := d.fail(StepRemove, name); err != nil {
		return err
	}
	return d.Base.Remove(name)
}

// Link names an unnamed file: its data's StepWrite, now that the name is
// known, then StepPublish.
func (d *FS) Link(f *os.File, newpath string) error {
	d.mu.Lock()
	st := d.state(f)
	judge, written := !st.linked, st.written && st.unnamed
	st.linked = true // a second Link (replacing a file) is the same step
	d.mu.Unlock()
	if judge && written {
		if err := d.fail(StepWrite, newpath); err != nil {
			return err
		}
	}
	if judge {
		if err := d.fail(StepPublish, newpath); err != nil {
			return err
		}
	}
	return d.Base.Link(f, newpath)
}
