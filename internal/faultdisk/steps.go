package faultdisk

import "fmt"

// Step names one kind of storage operation a Committer performs, so a test
// can make exactly that kind fail.
type Step int

// The steps, in the order a write meets them.
const (
	// StepCreate creates a file or directory: an unnamed inode
	// (O_TMPFILE), a temporary name, the journal file, a directory.
	StepCreate Step = iota + 1
	// StepWrite writes a file's data (a message, a state file). For an
	// unnamed file it is judged when the file gets its name, with that
	// name.
	StepWrite
	// StepSync is the fsync of a file's data before its rename (direct
	// mode).
	StepSync
	// StepPublish gives a written file its final name (rename of a
	// temporary name, linkat).
	StepPublish
	// StepDirSync is the fsync of a directory after a rename (direct mode).
	StepDirSync
	// StepRename renames an existing file (flag changes, mailbox renames).
	StepRename
	// StepRemove removes a file (not a temporary name being cleaned up).
	StepRemove
	// StepJournalWrite appends a batch of records to the journal (or
	// preallocates it).
	StepJournalWrite
	// StepJournalSync is the fdatasync that commits an appended batch (the
	// fsync of a new journal).
	StepJournalSync
	// StepCheckpoint is the syncfs that makes applied changes durable
	// before the journal is reused.
	StepCheckpoint
	// StepJournalHeader is the write of a journal header, which commits a
	// new generation: it fails before anything is written.
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
