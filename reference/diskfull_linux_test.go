//go:build linux

package reference

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/smtptest"
)

// mountTmpfs mounts a tmpfs of the given size ("8m") on a new directory,
// unmounted when the test ends (after the server started later is shut
// down). It skips the test where that cannot be done: not root, or a
// container that refuses mount(2). The injected-fault tests cover the same
// paths without a real file system.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; TestStorageFailureRefusesAndRecovers covers the same paths with injected faults")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size="+size+",mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v); TestStorageFailureRefusesAndRecovers covers the same paths with injected faults", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Logf("unmount %s: %v; detaching", dir, err)
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return dir
}

// fillDisk writes path until the file system holding it has no space left
// and returns how much it wrote.
func fillDisk(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var total int64
	// Big writes first, then page-sized ones for the last pages; bounded
	// by the size of any test tmpfs.
	for _, chunk := range []int{1 << 20, 4 << 10, 1} {
		buf := make([]byte, chunk)
		for i := 0; i < 1<<16; i++ {
			n, err := f.Write(buf)
			total += int64(n)
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			if err != nil {
				t.Fatalf("filling the disk: %v", err)
			}
		}
	}
	return total
}

// TestDiskFullOnTmpfs fills a real (tmpfs) file system under a running
// server: messages for local users and for relay, small (through the
// journal) and big (written directly), get 452 4.3.1 and nothing of them
// is stored; IMAP and POP3 keep reading; once the space is freed the same
// sessions deliver, exactly once, and a restart shows the same mailboxes.
func TestDiskFullOnTmpfs(t *testing.T) {
	mnt := mountTmpfs(t, "16m")
	dataDir := filepath.Join(mnt, "data")
	relay := smtptest.Start(t, smtptest.Config{})
	srv, stop := startStorageServer(t, storageConfig(t, dataDir, nil, relay.Addr()))

	local := dialSMTP(t, srv.SMTPAddr())
	local.cmd("EHLO client.example", 250)
	if r := local.transaction("carol@example.com", []string{"bob@example.org", "carol@example.org"}, testMessage("before", false)); r.Code != 250 {
		t.Fatalf("before the disk filled up: %s", r)
	}
	ir := openIMAP(t, srv.Addr("imap"), "bob", "pw")
	relaying := dialSMTP(t, srv.SMTPAddr())
	relaying.cmd("EHLO client.example", 250)
	relaying.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==", 235)

	filler := filepath.Join(mnt, "filler")
	t.Logf("filled the disk with %d bytes", fillDisk(t, filler))
	for _, big := range []bool{false, true} {
		marker := "refused-small"
		if big {
			marker = "refused-big"
		}
		for what, c := range map[string]*smtpClient{"local delivery": local, "relay": relaying} {
			to := []string{"bob@example.org", "carol@example.org"}
			if c == relaying {
				to = []string{"dave@example.net"}
			}
			r := c.transaction("carol@example.com", to, testMessage(marker, big))
			if r.Code != 452 || r.Enhanced != "4.3.1" {
				t.Errorf("%s of a %s message on a full disk: %s, want 452 4.3.1", what, strings.TrimPrefix(marker, "refused-"), r)
			}
			c.cmd("RSET", 250)
		}
	}
	checkReadsWork(t, srv, ir, "before")

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for _, big := range []bool{false, true} {
		if r := local.transaction("carol@example.com", []string{"bob@example.org", "carol@example.org"}, testMessage("after", big)); r.Code != 250 {
			t.Fatalf("local delivery once space is back: %s", r)
		}
	}
	if r := relaying.transaction("alice@example.org", []string{"dave@example.net"}, testMessage("after", false)); r.Code != 250 {
		t.Fatalf("relay once space is back: %s", r)
	}
	want := map[string][]string{"bob": {"before", "after", "after"}, "carol": {"before", "after", "after"}}
	checkMailboxes(t, srv, want)
	waitFor(t, 10*time.Second, "the queue to relay and drain", func() bool { return srv.Queue().Len() == 0 })
	if n := len(relay.Messages()); n != 1 {
		t.Errorf("relayed %d messages, want 1", n)
	}
	for _, marker := range []string{"refused-small", "refused-big"} {
		if found := filesContaining(t, dataDir, marker); len(found) != 0 {
			t.Errorf("the refused message is stored in %q", found)
		}
	}
	// A crash now: a server started from a copy replays the journal,
	// which must not bring the refused messages back.
	crashDir := t.TempDir()
	copyTree(t, dataDir, crashDir)
	crashed, stopCrashed := startStorageServer(t, storageConfig(t, crashDir, nil, ""))
	checkMailboxes(t, crashed, want)
	stopCrashed()
	stop()
	restarted, _ := startStorageServer(t, storageConfig(t, dataDir, nil, ""))
	checkMailboxes(t, restarted, want)
}

// TestReadOnlyDataDirOnTmpfs: a data directory on a file system mounted
// read-only stops Start with an error naming it (EROFS); remounted
// read-write, the server starts with its mail intact.
func TestReadOnlyDataDirOnTmpfs(t *testing.T) {
	mnt := mountTmpfs(t, "16m")
	dataDir := filepath.Join(mnt, "data")
	srv, stop := startStorageServer(t, storageConfig(t, dataDir, nil, ""))
	deliverTo(t, srv, testMessage("kept", false))
	stop()

	if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount the tmpfs read-only here: %v", err)
	}
	if srv, err := Start(storageConfig(t, dataDir, nil, "")); err == nil {
		srv.Shutdown(t.Context())
		t.Fatal("Start succeeded on a read-only file system")
	} else if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), dataDir) {
		t.Errorf("Start on a read-only file system: %v; want an error naming %s and wrapping EROFS", err, dataDir)
	}
	if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT, ""); err != nil {
		t.Fatalf("remounting read-write: %v", err)
	}
	srv, _ = startStorageServer(t, storageConfig(t, dataDir, nil, ""))
	checkMailboxes(t, srv, map[string][]string{"bob": {"kept"}})
}
