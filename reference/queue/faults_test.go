package queue

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/mailcheck/mailcheck/internal/faultdisk"
	"github.com/mailcheck/mailcheck/reference/durable"
)

// TestEnqueueFailureStoresNothing: a message for two domains is two
// entries written together; when a step of that write fails (full disk,
// I/O error), Enqueue must return the error (the SMTP server answers
// 452/451, not 250) and leave no entry, in memory or on disk, or the
// client's retry would be delivered twice. Once the fault clears, the
// same message is queued once.
func TestEnqueueFailureStoresNothing(t *testing.T) {
	type failAt struct {
		step faultdisk.Step
		skip int32 // matching calls let through first: fail the 2nd file
	}
	for _, m := range []struct {
		name   string
		direct bool
		steps  []failAt
	}{
		{"direct", true, []failAt{{faultdisk.StepCreate, 1}, {faultdisk.StepWrite, 1}, {faultdisk.StepSync, 1}, {faultdisk.StepPublish, 1}, {faultdisk.StepDirSync, 0}}},
		{"journal", false, []failAt{{faultdisk.StepWrite, 1}, {faultdisk.StepPublish, 1}, {faultdisk.StepJournalWrite, 0}, {faultdisk.StepJournalSync, 0}}},
	} {
		for _, at := range m.steps {
			for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EIO} {
				t.Run(fmt.Sprintf("%s/%s/%s", m.name, at.step, errno), func(t *testing.T) {
					var armed atomic.Bool
					var seen, hits atomic.Int32
					faults := &faultdisk.FS{Base: durable.OSFS{}, Fail: func(step faultdisk.Step, path string) error {
						// Journal steps name the journal; the others the
						// queue's files.
						inQueue := filepath.Base(path) == "queue" || filepath.Base(filepath.Dir(path)) == "queue" ||
							step == faultdisk.StepJournalWrite || step == faultdisk.StepJournalSync
						if !armed.Load() || step != at.step || !inQueue {
							return nil
						}
						if seen.Add(1) <= at.skip {
							return nil
						}
						hits.Add(1)
						return errno
					}}
					root := t.TempDir()
					c, err := durable.OpenWith(root, durable.Options{Direct: m.direct, JournalBytes: 1 << 20, FS: faults})
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					dir := filepath.Join(root, "queue")
					open := func() *Queue {
						q, _ := openQueue(t, dir, nil, func(o *Options) { o.Committer = c })
						return q
					}
					q := open()
					rcpts := []string{"b@example.net", "c@example.com"}
					armed.Store(true)
					err = q.Enqueue("a@example.org", rcpts, false, testMessage("refused"))
					armed.Store(false)
					if hits.Load() == 0 {
						t.Fatalf("step %s never failed", at.step)
					}
					if !errors.Is(err, errno) {
						t.Fatalf("Enqueue = %v, want %v", err, errno)
					}
					if q.Len() != 0 {
						t.Errorf("%d entries after a refused Enqueue", q.Len())
					}
					if files := queueFiles(t, dir); len(files) != 0 {
						t.Errorf("files left by a refused Enqueue: %q", files)
					}
					if again := open(); again.Len() != 0 {
						t.Errorf("a restarted queue loads %d entries of the refused message", again.Len())
					}
					if err := q.Enqueue("a@example.org", rcpts, false, testMessage("accepted")); err != nil {
						t.Fatalf("Enqueue after the fault cleared: %v", err)
					}
					if q.Len() != 2 || len(queueFiles(t, dir)) != 2 {
						t.Errorf("after the retry: %d entries, files %q; want 2 and 2", q.Len(), queueFiles(t, dir))
					}
				})
			}
		}
	}
}
