package mailstore

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestReadDuringAFlagRename: SetFlags renames a message's file before it
// updates the index, so a reader in between looks for a name that is gone.
// The reader must still get the message: an IMAP SEARCH HEADER that could
// not read it left the message out (seen under load as a message another
// session saw and this one's SEARCH did not find).
func TestReadDuringAFlagRename(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	if err := s.Deliver([]string{"bob"}, [][]byte{[]byte("Subject: x\r\n\r\nbody\r\n")}); err != nil {
		t.Fatal(err)
	}
	mb, err := s.Inbox("bob")
	if err != nil {
		t.Fatal(err)
	}
	// The window, held open: the file moves to cur/ with its Maildir
	// info, as SetFlags's rename does, and the index is not told.
	entries, err := os.ReadDir(filepath.Join(dir, "mail", "bob", "new"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("new/: %v, %v", entries, err)
	}
	from := filepath.Join(dir, "mail", "bob", "new", entries[0].Name())
	to := filepath.Join(dir, "mail", "bob", "cur", entries[0].Name()+":2,S")
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
	got, err := mb.Read(1)
	if err != nil || string(got) != "Subject: x\r\n\r\nbody\r\n" {
		t.Fatalf("Read during the rename: %q, %v", got, err)
	}
}

// TestReadsRaceFlagChanges: readers and flag changes of one message at
// once; every read gets the message.
func TestReadsRaceFlagChanges(t *testing.T) {
	s := openStore(t, t.TempDir())
	if err := s.Deliver([]string{"bob"}, [][]byte{[]byte("m\r\n")}); err != nil {
		t.Fatal(err)
	}
	mb, err := s.Inbox("bob")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			op := FlagsAdd
			if i%2 == 1 {
				op = FlagsRemove
			}
			mb.SetFlags([]uint32{1}, op, []string{`\Seen`}, nil)
		}
	}()
	for range 2000 {
		if got, err := mb.Read(1); err != nil || string(got) != "m\r\n" {
			t.Errorf("Read while flags change: %q, %v", got, err)
			break
		}
	}
	close(stop)
	wg.Wait()
}
