package mailstore

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// recorder is an Observer that logs what it hears.
type recorder struct{ events []string }

func (r *recorder) Appended(seq uint32, m Message) {
	r.events = append(r.events, "exists "+itoa(seq)+" uid "+itoa(m.UID))
}
func (r *recorder) Expunged(seq, uid uint32) {
	r.events = append(r.events, "expunge "+itoa(seq)+" uid "+itoa(uid))
}
func (r *recorder) FlagsChanged(seq, uid uint32, flags []string, _ any) {
	r.events = append(r.events, "flags "+itoa(seq)+" "+strings.Join(flags, ","))
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func TestFlagsPersistAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	s.Deliver([]string{"bob"}, [][]byte{[]byte("one\r\n")})
	s.Deliver([]string{"bob"}, [][]byte{[]byte("two\r\n")})
	mb, _ := s.Inbox("bob")
	rec := &recorder{}
	mb.Observe(func([]Message) Observer { return rec })
	if _, err := mb.SetFlags([]uint32{1}, FlagsAdd, []string{`\seen`, "$Important"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.SetFlags([]uint32{2}, FlagsSet, []string{`\Flagged`, `\Deleted`}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.SetFlags([]uint32{2}, FlagsRemove, []string{`\deleted`}, nil); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"$Important", `\Seen`}, {`\Flagged`}}
	for _, store := range []*Store{s, openStore(t, dir)} {
		mb, _ := store.Inbox("bob")
		msgs, _ := mb.Messages()
		for i, m := range msgs {
			if !slices.Equal(m.Flags, want[i]) {
				t.Errorf("message %d flags %v, want %v", m.UID, m.Flags, want[i])
			}
			if data, err := mb.Read(m.UID); err != nil || !strings.HasSuffix(string(data), "\r\n") {
				t.Errorf("read %d after flag change: %q %v", m.UID, data, err)
			}
		}
	}
	if got := strings.Join(rec.events, "|"); got != `flags 1 $Important,\Seen|flags 2 \Deleted,\Flagged|flags 2 \Flagged` {
		t.Errorf("observer heard %q", got)
	}
}

func TestExpungeNotifiesWithSequenceNumbers(t *testing.T) {
	s := openStore(t, t.TempDir())
	for range 4 {
		s.Deliver([]string{"bob"}, [][]byte{[]byte("m\r\n")})
	}
	mb, _ := s.Inbox("bob")
	rec := &recorder{}
	mb.Observe(func([]Message) Observer { return rec })
	removed, err := mb.Expunge([]uint32{2, 4, 99})
	if err != nil || !slices.Equal(removed, []uint32{2, 4}) {
		t.Fatalf("Expunge = %v, %v", removed, err)
	}
	// UID 2 was message 2; then UID 4 was message 3.
	if got := strings.Join(rec.events, "|"); got != "expunge 2 uid 2|expunge 3 uid 4" {
		t.Errorf("observer heard %q", got)
	}
	s.Deliver([]string{"bob"}, [][]byte{[]byte("m\r\n")})
	msgs, _ := mb.Messages()
	if uids := uidsOf(msgs); !slices.Equal(uids, []uint32{1, 3, 5}) {
		t.Errorf("UIDs %v", uids)
	}
	if rec.events[len(rec.events)-1] != "exists 3 uid 5" {
		t.Errorf("delivery not observed: %v", rec.events)
	}
}

func uidsOf(msgs []Message) []uint32 {
	var out []uint32
	for _, m := range msgs {
		out = append(out, m.UID)
	}
	return out
}

func TestAppendKeepsDateAndFlags(t *testing.T) {
	s := openStore(t, t.TempDir())
	if err := s.CreateMailbox("bob", "Sent"); err != nil {
		t.Fatal(err)
	}
	mb, err := s.Mailbox("bob", "Sent")
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2020, 2, 29, 12, 30, 15, 0, time.UTC)
	uid, err := mb.Append(strings.NewReader("Subject: x\r\n\r\nbody\r\n"), []string{`\Seen`, `\Draft`}, date)
	if err != nil || uid != 1 {
		t.Fatalf("Append = %d, %v", uid, err)
	}
	msgs, _ := mb.Messages()
	if !msgs[0].Date.Equal(date) || !slices.Equal(msgs[0].Flags, []string{`\Draft`, `\Seen`}) || msgs[0].Size != 20 {
		t.Errorf("appended %+v", msgs[0])
	}
	inbox, _ := s.Inbox("bob")
	src, dst, err := mb.CopyTo(inbox, []uint32{1})
	if err != nil || !slices.Equal(src, []uint32{1}) || len(dst) != 1 {
		t.Fatalf("CopyTo = %v %v %v", src, dst, err)
	}
	copied, _ := inbox.Messages()
	if !copied[0].Date.Equal(date) || !slices.Equal(copied[0].Flags, msgs[0].Flags) {
		t.Errorf("copy lost date or flags: %+v", copied[0])
	}
}

func TestMailboxLifecycle(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	for _, name := range []string{"Work", "Work.Projects", "Archive"} {
		if err := s.CreateMailbox("bob", name); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateMailbox("bob", "Work"); !errors.Is(err, ErrExists) {
		t.Errorf("create existing: %v", err)
	}
	if err := s.CreateMailbox("bob", "inbox"); !errors.Is(err, ErrExists) {
		t.Errorf("create INBOX: %v", err)
	}
	for _, bad := range []string{"", ".x", "x.", "a..b", "a/b", "a\x01b"} {
		if err := s.CreateMailbox("bob", bad); !errors.Is(err, ErrBadName) {
			t.Errorf("create %q: %v", bad, err)
		}
	}
	work, _ := s.Mailbox("bob", "Work")
	validity := work.UIDValidity()
	work.Append(strings.NewReader("x\r\n"), nil, time.Time{})

	if err := s.RenameMailbox("bob", "Work", "Job"); err != nil {
		t.Fatal(err)
	}
	names, _ := openStore(t, dir).ListMailboxes("bob")
	if !slices.Equal(names, []string{"INBOX", "Archive", "Job", "Job.Projects"}) {
		t.Errorf("after rename: %v", names)
	}
	if msgs, _ := work.Messages(); len(msgs) != 1 || work.Name() != "Job" {
		t.Errorf("renamed mailbox handle: %q %v", work.Name(), msgs)
	}
	if err := s.DeleteMailbox("bob", "Job"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMailbox("bob", "INBOX"); !errors.Is(err, ErrInbox) {
		t.Errorf("delete INBOX: %v", err)
	}
	if err := s.DeleteMailbox("bob", "Nope"); !errors.Is(err, ErrNoMailbox) {
		t.Errorf("delete missing: %v", err)
	}
	if _, err := work.Messages(); !errors.Is(err, ErrNoMailbox) {
		t.Errorf("deleted mailbox still answers: %v", err)
	}
	s.CreateMailbox("bob", "Job")
	again, _ := s.Mailbox("bob", "Job")
	if again.UIDValidity() <= validity {
		t.Errorf("re-created mailbox UIDVALIDITY %d, old %d: must differ", again.UIDValidity(), validity)
	}
	if msgs, _ := again.Messages(); len(msgs) != 0 {
		t.Errorf("re-created mailbox holds %d messages", len(msgs))
	}
}

func TestRenameInboxMovesMessages(t *testing.T) {
	s := openStore(t, t.TempDir())
	s.Deliver([]string{"bob"}, [][]byte{[]byte("m\r\n")})
	if err := s.RenameMailbox("bob", "INBOX", "Old"); err != nil {
		t.Fatal(err)
	}
	inbox, _ := s.Inbox("bob")
	old, _ := s.Mailbox("bob", "Old")
	a, _ := inbox.Messages()
	b, _ := old.Messages()
	if len(a) != 0 || len(b) != 1 {
		t.Errorf("INBOX %d, Old %d messages", len(a), len(b))
	}
}

func TestSubscriptionsPersist(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	s.SetSubscribed("bob", "Sent", true)
	s.SetSubscribed("bob", "Gone", true)
	s.SetSubscribed("bob", "Gone", false)
	subs, _ := openStore(t, dir).Subscriptions("bob")
	if !slices.Equal(subs, []string{"Sent"}) {
		t.Errorf("subscriptions %v", subs)
	}
}

func TestTooManyKeywords(t *testing.T) {
	s := openStore(t, t.TempDir())
	s.Deliver([]string{"bob"}, [][]byte{[]byte("m\r\n")})
	mb, _ := s.Inbox("bob")
	var kws []string
	for i := range maxKeywords {
		kws = append(kws, "k"+string(rune('a'+i)))
	}
	if _, err := mb.SetFlags([]uint32{1}, FlagsAdd, kws, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.SetFlags([]uint32{1}, FlagsAdd, []string{"one-too-many"}, nil); !errors.Is(err, ErrTooManyKeywords) {
		t.Errorf("27th keyword: %v", err)
	}
}
