package mailstore

import (
	"slices"
	"strings"
	"testing"
)

// TestMoveWithinExpungesBeforeItAdds: a message moved within its mailbox
// gets a new UID at the end, keeps its content and flags, and observers
// hear it leave before it arrives again, also after a restart.
func TestMoveWithinExpungesBeforeItAdds(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	s.Deliver([]string{"bob"}, [][]byte{[]byte("one\r\n")})
	s.Deliver([]string{"bob"}, [][]byte{[]byte("two\r\n")})
	mb, _ := s.Inbox("bob")
	if _, err := mb.SetFlags([]uint32{1}, FlagsAdd, []string{`\Flagged`}, nil); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	mb.Observe(func([]Message) Observer { return rec })
	src, dst, err := mb.MoveWithin([]uint32{1, 99})
	if err != nil || !slices.Equal(src, []uint32{1}) || !slices.Equal(dst, []uint32{3}) {
		t.Fatalf("MoveWithin = %v, %v, %v; want [1] [3]", src, dst, err)
	}
	if got := strings.Join(rec.events, "|"); got != "expunge 1 uid 1|exists 2 uid 3" {
		t.Errorf("observer heard %q, want the expunge first", got)
	}
	for _, store := range []*Store{s, openStore(t, dir)} {
		mb, _ := store.Inbox("bob")
		msgs, _ := mb.Messages()
		if len(msgs) != 2 || msgs[0].UID != 2 || msgs[1].UID != 3 || !slices.Equal(msgs[1].Flags, []string{`\Flagged`}) {
			t.Fatalf("after the move: %+v", msgs)
		}
		if data, err := mb.Read(3); err != nil || string(data) != "one\r\n" {
			t.Errorf("moved content %q, %v", data, err)
		}
	}
}
