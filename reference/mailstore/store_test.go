package mailstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mailcheck/mailcheck/reference/durable"
)

func openStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, durable.New())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDeliverIsMaildirWithUIDs(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	msg := "Subject: hi\r\n\r\nbody\r\n"
	if err := s.Deliver([]string{"bob", "alice", "bob"}, [][]byte{[]byte("Received: x\r\n"), []byte(msg)}); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"alice", "bob"} {
		entries, err := os.ReadDir(filepath.Join(dir, "mail", user, "new"))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Fatalf("%s has %d messages in new/, want 1", user, len(entries))
		}
		data, _ := os.ReadFile(filepath.Join(dir, "mail", user, "new", entries[0].Name()))
		if string(data) != "Received: x\r\n"+msg {
			t.Errorf("stored %q", data)
		}
		if !strings.Contains(entries[0].Name(), fmt.Sprintf(",S=%d,U=1", len(data))) {
			t.Errorf("file name %q lacks size and UID", entries[0].Name())
		}
		for _, sub := range []string{"tmp", "cur"} {
			if fi, err := os.Stat(filepath.Join(dir, "mail", user, sub)); err != nil || !fi.IsDir() {
				t.Errorf("%s/%s missing", user, sub)
			}
		}
	}
}

func TestUIDsPersistAndNeverRepeat(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	for i := 0; i < 3; i++ {
		if err := s.Deliver([]string{"bob"}, [][]byte{[]byte("m\r\n")}); err != nil {
			t.Fatal(err)
		}
	}
	mb, _ := s.Inbox("bob")
	validity := mb.UIDValidity()
	msgs, _ := mb.Messages()
	if len(msgs) != 3 || msgs[0].UID != 1 || msgs[2].UID != 3 {
		t.Fatalf("messages %+v", msgs)
	}
	// Expunge the highest UID and restart: its UID must not come back.
	if _, err := mb.Expunge([]uint32{3}); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, dir)
	mb2, _ := s2.Inbox("bob")
	if mb2.UIDValidity() != validity {
		t.Errorf("UIDVALIDITY changed across a restart: %d → %d", validity, mb2.UIDValidity())
	}
	s2.Deliver([]string{"bob"}, [][]byte{[]byte("m\r\n")})
	msgs, _ = mb2.Messages()
	if got := msgs[len(msgs)-1].UID; got <= 2 {
		t.Errorf("new message got UID %d after a restart", got)
	}
}

func TestForeignDeliveryGetsUID(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	s.Deliver([]string{"bob"}, [][]byte{[]byte("ours\r\n")})
	// Another MDA drops a message in new/ the Maildir way.
	foreign := filepath.Join(dir, "mail", "bob", "new", "1700000000.P1Q1.otherhost")
	os.WriteFile(foreign, []byte("theirs\n"), 0o600)
	mb, _ := s.Inbox("bob")
	msgs, err := mb.Messages()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("an open mailbox picked up a foreign file before a rescan: %+v", msgs)
	}
	// A restart rescans and gives the foreign message the next UID.
	mb2, _ := openStore(t, dir).Inbox("bob")
	msgs, _ = mb2.Messages()
	if len(msgs) != 2 || msgs[1].UID != 2 || msgs[1].Size != 7 {
		t.Fatalf("messages %+v", msgs)
	}
	mb3, _ := openStore(t, dir).Inbox("bob")
	if again, _ := mb3.Messages(); again[1].UID != 2 {
		t.Errorf("UID not stable: %+v", again)
	}
}

func TestConcurrentDeliveriesKeepUIDOrder(t *testing.T) {
	s := openStore(t, t.TempDir())
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if err := s.Deliver([]string{"bob"}, [][]byte{[]byte("m\r\n")}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	mb, _ := s.Inbox("bob")
	msgs, _ := mb.Messages()
	if len(msgs) != 200 {
		t.Fatalf("%d messages", len(msgs))
	}
	for i, m := range msgs {
		if m.UID != uint32(i+1) {
			t.Fatalf("message %d has UID %d", i, m.UID)
		}
	}
}

func TestRejectsBadUserNames(t *testing.T) {
	s := openStore(t, t.TempDir())
	for _, bad := range []string{"", "../etc", "a/b", ".hidden", "Bob"} {
		if err := s.Deliver([]string{bad}, [][]byte{[]byte("x\r\n")}); err == nil {
			t.Errorf("delivered to %q", bad)
		}
	}
}

func TestStaleTmpRemoved(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	s.Deliver([]string{"bob"}, [][]byte{[]byte("x\r\n")})
	stale := filepath.Join(dir, "mail", "bob", "tmp", "half-written")
	os.WriteFile(stale, []byte("partial"), 0o600)
	s2 := openStore(t, dir)
	s2.Inbox("bob")
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("half-written tmp file survived a restart")
	}
}

func BenchmarkDeliver(b *testing.B) {
	s, _ := Open(b.TempDir(), durable.New())
	msg := [][]byte{[]byte(strings.Repeat("x", 1022) + "\r\n")}
	b.SetBytes(1024)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Deliver([]string{"bob"}, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}
