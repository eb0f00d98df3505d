package fetch

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestParseSinceAndMailbox: a day or a duration ago; the /MAILBOX of an
// IMAP URL, percent-decoded.
func TestParseSinceAndMailbox(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if got, err := ParseSince("2026-01-31", now); err != nil || !got.Equal(time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("day: %v %v", got, err)
	}
	if got, err := ParseSince("48h", now); err != nil || !got.Equal(now.Add(-48*time.Hour)) {
		t.Errorf("duration: %v %v", got, err)
	}
	for _, in := range []string{"yesterday", "-1h", ""} {
		if _, err := ParseSince(in, now); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	for raw, want := range map[string]string{"imap://u@h/Archive%2F2026": "Archive/2026", "imap://u@h": "", "h:143": ""} {
		if got, err := MailboxOf(raw); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", raw, got, err, want)
		}
	}
}

// fakeMailbox holds messages in memory; writes and deletions are counted.
type fakeMailbox struct {
	data    map[string][]byte
	deleted int
	closed  bool
}

func (f *fakeMailbox) Messages(string) ([]Message, error) { return nil, nil }
func (f *fakeMailbox) ReadHeader(*Message) error          { return nil }
func (f *fakeMailbox) Retrieve(m Message) ([]byte, error) { return f.data[m.ID], nil }
func (f *fakeMailbox) Delete(ms []Message) error          { f.deleted += len(ms); return nil }
func (f *fakeMailbox) Close() error                       { f.closed = true; return nil }
func (f *fakeMailbox) Abort()                             {}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestDeliver: messages go out byte for byte, or as an mboxrd stream; a
// failed write is a *WriteError naming the message.
func TestDeliver(t *testing.T) {
	mb := &fakeMailbox{data: map[string][]byte{"1": []byte("Subject: a\r\n\r\nFrom here\r\n"), "2": []byte("Subject: b\r\n\r\nb\r\n")}}
	msgs := []Message{{ID: "1"}, {ID: "2"}}
	var out strings.Builder
	if err := Deliver(&out, mb, msgs, "", false); err != nil || out.String() != "Subject: a\r\n\r\nFrom here\r\nSubject: b\r\n\r\nb\r\n" {
		t.Errorf("plain: %v %q", err, out.String())
	}
	out.Reset()
	if err := Deliver(&out, mb, msgs, "", true); err != nil || strings.Count(out.String(), "\nFrom ") != 1 || !strings.Contains(out.String(), ">From here") {
		t.Errorf("mbox: %v %q", err, out.String())
	}
	err := Deliver(failingWriter{}, mb, msgs, "", false)
	var we *WriteError
	if !errors.As(err, &we) || !strings.Contains(err.Error(), "writing message 1: disk full") {
		t.Errorf("a failed write: %v", err)
	}
}

// TestListing: one line per message, control characters of header values
// shown as spaces so the columns hold.
func TestListing(t *testing.T) {
	var out strings.Builder
	msgs := []Message{{ID: "7", Size: 42, Header: []byte("Subject: tab\there\r\nFrom: a@b\r\n\r\n")}}
	if err := WriteListing(&out, "imap", msgs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "UID") || !strings.Contains(lines[1], "tab here") || !strings.HasPrefix(lines[1], "7 ") {
		t.Errorf("listing:\n%s", out.String())
	}
	if (Request{}).Fetching() || !(Request{All: true}).Fetching() || !(Request{Selection: Selection{ID: "1"}}).Fetching() || !(Request{Wait: time.Second}).Fetching() {
		t.Error("Fetching is wrong")
	}
}
