package durable

import (
	"fmt"
	"os"
)

// Step names one kind of storage operation a Committer performs, so a test
// can make exactly that kind fail.
type Step int

// The steps, in the order a write meets them.
const (
	// StepCreate creates a file or directory: an unnamed inode
	// (O_TMPFILE), a temporary name, the journal file, a directory.
	StepCreate Step = iota + 1
	// StepWrite writes a file's data (a message, a state file).
	StepWrite
	// StepSync is the fsync of a file's data before its rename (direct
	// mode).
	StepSync
	// StepPublish gives a written file its final name (rename, linkat).
	StepPublish
	// StepDirSync is the fsync of a directory after a rename (direct mode).
	StepDirSync
	// StepRename renames an existing file (flag changes, mailbox renames).
	StepRename
	// StepRemove removes a file.
	StepRemove
	// StepJournalWrite appends a batch of records to the journal.
	StepJournalWrite
	// StepJournalSync is the fdatasync that commits an appended batch.
	StepJournalSync
	// StepCheckpoint is the syncfs that makes applied changes durable
	// before the journal is reused.
	StepCheckpoint
	// StepJournalHeader commits a new journal generation: the fault hits
	// the fdatasync after the header was written, so the file may already
	// hold the new generation while the commit failed.
	StepJournalHeader
)

var stepNames = [...]string{
	StepCreate:        "create",
	StepWrite:         "write",
	StepSync:          "fsync",
	StepPublish:       "publish",
	StepDirSync:       "dir-fsync",
	StepRename:        "rename",
	StepRemove:        "remove",
	StepJournalWrite:  "journal-write",
	StepJournalSync:   "journal-fdatasync",
	StepCheckpoint:    "checkpoint",
	StepJournalHeader: "journal-header",
}

func (s Step) String() string {
	if s > 0 && int(s) < len(stepNames) {
		return stepNames[s]
	}
	return fmt.Sprintf("Step(%d)", int(s))
}

// Faults make chosen storage steps fail, so tests can show what the server
// does when the disk fills up or turns read-only without filling a real
// disk. Only tests set them (like smtpserver.Options.Faults); nil is the
// real thing.
type Faults struct {
	// Fail is called before each step with the path it concerns (a file's
	// temporary or final name, a directory, the journal). A non-nil error,
	// typically a syscall.Errno such as ENOSPC or EIO, makes the step fail
	// as the system call would, wrapped in an *os.PathError. A data write
	// first writes part of its data, as a short write on a full disk does.
	// Fail is called from many goroutines at once.
	Fail func(step Step, path string) error
}

// check returns the injected error for step, nil when there is none.
func (f *Faults) check(step Step, path string) error {
	if f == nil || f.Fail == nil {
		return nil
	}
	if err := f.Fail(step, path); err != nil {
		return &os.PathError{Op: step.String() + " (injected)", Path: path, Err: err}
	}
	return nil
}

// writeChunks writes data to f in order; path names f for the faults.
func (f *Faults) writeChunks(file *os.File, path string, data [][]byte) error {
	if err := f.check(StepWrite, path); err != nil {
		// A full disk takes part of a write before it refuses the rest:
		// whoever cleans up must cope with a partial file.
		if len(data) > 0 {
			file.Write(data[0][:len(data[0])/2])
		}
		return err
	}
	for _, chunk := range data {
		if _, err := file.Write(chunk); err != nil {
			return err
		}
	}
	return nil
}

// writeAt is file.WriteAt through the faults: an injected error writes the
// first half of b before failing, a torn write.
func (f *Faults) writeAt(file *os.File, step Step, b []byte, off int64) error {
	if err := f.check(step, file.Name()); err != nil {
		file.WriteAt(b[:len(b)/2], off)
		return err
	}
	_, err := file.WriteAt(b, off)
	return err
}
