package mailstore

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/mailcheck/mailcheck/internal/faultdisk"
	"github.com/mailcheck/mailcheck/reference/durable"
)

// failing is a faultdisk.FS that, while armed, fails step for paths
// containing match with err, after letting skip such calls through.
type failing struct {
	step  faultdisk.Step
	match string
	err   error
	skip  int32
	armed atomic.Bool
	seen  atomic.Int32
	hits  atomic.Int32
}

func (f *failing) faults() *faultdisk.FS {
	return &faultdisk.FS{Base: durable.OSFS{}, Fail: func(step faultdisk.Step, path string) error {
		if !f.armed.Load() || step != f.step || !strings.Contains(path, f.match) {
			return nil
		}
		if f.seen.Add(1) <= f.skip {
			return nil
		}
		f.hits.Add(1)
		return f.err
	}}
}

var storageModes = []struct {
	name   string
	direct bool
}{{"direct", true}, {"journal", false}}

func openFaultyStore(t *testing.T, direct bool, f *failing) *Store {
	t.Helper()
	dir := t.TempDir()
	c, err := durable.OpenWith(dir, durable.Options{Direct: direct, JournalBytes: 1 << 20, FS: f.faults()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := Open(dir, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// contents returns the messages of user's INBOX, checking that the index
// and the files on disk agree.
func contents(t *testing.T, s *Store, user string) []string {
	t.Helper()
	mb, err := s.Inbox(user)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := mb.Messages()
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := mb.scan()
	if err != nil {
		t.Fatal(err)
	}
	if len(onDisk) != len(msgs) {
		t.Fatalf("%s: %d messages in the index, %d on disk", user, len(msgs), len(onDisk))
	}
	var out []string
	for _, m := range msgs {
		data, err := mb.Read(m.UID)
		if err != nil {
			t.Fatalf("%s: reading UID %d: %v", user, m.UID, err)
		}
		out = append(out, string(data))
	}
	return out
}

// TestDeliverFailureStoresNothing: a delivery to two users whose second
// copy cannot be stored must leave neither (the client sends the message
// again), return the storage error, and not stop the next delivery.
func TestDeliverFailureStoresNothing(t *testing.T) {
	for _, m := range storageModes {
		steps := []faultdisk.Step{faultdisk.StepWrite, faultdisk.StepPublish}
		if m.direct {
			steps = append(steps, faultdisk.StepCreate, faultdisk.StepSync, faultdisk.StepDirSync)
		}
		for _, step := range steps {
			t.Run(m.name+"/"+step.String(), func(t *testing.T) {
				// In direct mode a failed directory fsync comes after the
				// file is visible: fail alice's, which is published first.
				victim := "/bob/"
				if step == faultdisk.StepDirSync {
					victim = "/alice/"
				}
				f := &failing{step: step, match: victim, err: syscall.ENOSPC}
				s := openFaultyStore(t, m.direct, f)
				for _, u := range []string{"alice", "bob"} {
					if _, err := s.Inbox(u); err != nil {
						t.Fatal(err)
					}
				}
				f.armed.Store(true)
				err := s.Deliver([]string{"alice", "bob"}, [][]byte{[]byte("refused\r\n")})
				f.armed.Store(false)
				if f.hits.Load() == 0 {
					t.Fatalf("step %s never ran for %s", step, victim)
				}
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("Deliver = %v, want ENOSPC", err)
				}
				for _, u := range []string{"alice", "bob"} {
					if got := contents(t, s, u); len(got) != 0 {
						t.Errorf("%s holds %q after a refused delivery", u, got)
					}
				}
				if err := s.Deliver([]string{"alice", "bob"}, [][]byte{[]byte("accepted\r\n")}); err != nil {
					t.Fatalf("delivery after the fault cleared: %v", err)
				}
				for _, u := range []string{"alice", "bob"} {
					if got := contents(t, s, u); len(got) != 1 || got[0] != "accepted\r\n" {
						t.Errorf("%s holds %q, want the accepted message once", u, got)
					}
				}
			})
		}
	}
}

// TestCopyFailureRestoresDestination: RFC 9051 §6.4.7, a failed COPY
// leaves the destination as it was, even when some messages were copied.
func TestCopyFailureRestoresDestination(t *testing.T) {
	for _, m := range storageModes {
		t.Run(m.name, func(t *testing.T) {
			// The second message file fails to appear; the mailbox's own
			// files (the UID list the rollback rewrites) do not.
			f := &failing{step: faultdisk.StepPublish, match: "/.Dest/cur/", err: syscall.EIO, skip: 1}
			s := openFaultyStore(t, m.direct, f)
			if err := s.CreateMailbox("bob", "Dest"); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := s.Deliver([]string{"bob"}, [][]byte{fmt.Appendf(nil, "m%d\r\n", i)}); err != nil {
					t.Fatal(err)
				}
			}
			inbox, _ := s.Inbox("bob")
			dest, _ := s.Mailbox("bob", "Dest")
			f.armed.Store(true)
			_, dst, err := inbox.CopyTo(dest, []uint32{1, 2, 3})
			f.armed.Store(false)
			if !errors.Is(err, syscall.EIO) {
				t.Fatalf("CopyTo = %v, want EIO", err)
			}
			if len(dst) != 0 {
				t.Errorf("CopyTo reports copies %v kept", dst)
			}
			msgs, _ := dest.Messages()
			onDisk, _ := dest.scan()
			if len(msgs) != 0 || len(onDisk) != 0 {
				t.Errorf("destination holds %d indexed, %d on disk after a failed COPY", len(msgs), len(onDisk))
			}
			if _, dst, err := inbox.CopyTo(dest, []uint32{1, 2, 3}); err != nil || len(dst) != 3 {
				t.Fatalf("COPY after the fault cleared: %v, %v", dst, err)
			}
		})
	}
}

// TestRenameAndRemoveNotDurableKeepIndex: in direct mode a flag change's
// rename, or an expunge's removal, can happen and then fail its directory
// fsync. The call fails, but the index must follow the file, or the
// message could not be read (or would be listed though gone) until a
// restart.
func TestRenameAndRemoveNotDurableKeepIndex(t *testing.T) {
	f := &failing{step: faultdisk.StepDirSync, match: "/bob/cur", err: syscall.EIO}
	s := openFaultyStore(t, true, f)
	for i := range 2 {
		if err := s.Deliver([]string{"bob"}, [][]byte{fmt.Appendf(nil, "m%d\r\n", i)}); err != nil {
			t.Fatal(err)
		}
	}
	mb, _ := s.Inbox("bob")
	f.armed.Store(true)
	if _, err := mb.SetFlags([]uint32{1}, FlagsAdd, []string{`\Seen`}, nil); !errors.Is(err, syscall.EIO) {
		t.Fatalf("SetFlags = %v, want EIO", err)
	}
	f.armed.Store(false)
	if got := contents(t, s, "bob"); len(got) != 2 {
		t.Fatalf("after the flag change: %q", got)
	}
	msgs, _ := mb.Messages()
	if len(msgs[0].Flags) != 1 || msgs[0].Flags[0] != `\Seen` {
		t.Errorf("index flags %q, but the file was renamed to carry \\Seen", msgs[0].Flags)
	}
	// Message 1 is in cur/ now: removing it fails its directory fsync.
	f.armed.Store(true)
	if _, err := mb.Expunge([]uint32{1}); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Expunge = %v, want EIO", err)
	}
	f.armed.Store(false)
	if got := contents(t, s, "bob"); len(got) != 1 || got[0] != "m1\r\n" {
		t.Errorf("after the expunge: %q", got)
	}
}

// TestDeliverRollbackFailureKeepsCopy: when the copy already delivered
// cannot be taken back either (its mailbox's UID list cannot be rewritten,
// as on a full disk), it stays, readable and indexed: a duplicate once the
// client retries, never a loss or a reused UID. The error says so and
// still wraps the first cause.
func TestDeliverRollbackFailureKeepsCopy(t *testing.T) {
	for _, m := range storageModes {
		t.Run(m.name, func(t *testing.T) {
			var armed atomic.Bool
			faults := &faultdisk.FS{Base: durable.OSFS{}, Fail: func(step faultdisk.Step, path string) error {
				switch {
				case !armed.Load():
					return nil
				case step == faultdisk.StepPublish && strings.Contains(path, "/bob/new/"):
					return syscall.EIO
				case step == faultdisk.StepWrite && strings.Contains(path, "/alice/"+uidListName):
					return syscall.ENOSPC
				}
				return nil
			}}
			dir := t.TempDir()
			c, err := durable.OpenWith(dir, durable.Options{Direct: m.direct, JournalBytes: 1 << 20, FS: faults})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			s, err := Open(dir, c)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range []string{"alice", "bob"} {
				if _, err := s.Inbox(u); err != nil {
					t.Fatal(err)
				}
			}
			armed.Store(true)
			err = s.Deliver([]string{"alice", "bob"}, [][]byte{[]byte("m\r\n")})
			armed.Store(false)
			if !errors.Is(err, syscall.EIO) || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "stays delivered") {
				t.Fatalf("Deliver = %v", err)
			}
			if got := contents(t, s, "alice"); len(got) != 1 {
				t.Errorf("alice holds %q, want the copy that could not be taken back", got)
			}
			if got := contents(t, s, "bob"); len(got) != 0 {
				t.Errorf("bob holds %q", got)
			}
		})
	}
}
