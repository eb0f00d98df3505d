package smtpsend

import (
	"os"
	"strings"
	"testing"
)

// TestDraftBuild: a composed message and a whole one set the envelope
// from the addresses; what contradicts itself or names no valid address is
// refused before anything is sent.
func TestDraftBuild(t *testing.T) {
	dir := t.TempDir()
	whole := dir + "/m.eml"
	os.WriteFile(whole, []byte("Subject: hi\nMessage-ID: <w@example.org>\n\nbody\n"), 0o644)
	var o Options
	msg, id, err := Draft{From: "Alice <alice@example.org>", To: []string{"bob@example.net"}, Subject: "Hello", Body: "Hi"}.Build(&o)
	if err != nil || o.From != "alice@example.org" || len(o.To) != 1 || o.To[0] != "bob@example.net" || id == "" || !strings.Contains(string(msg), "Subject: Hello\r\n") {
		t.Fatalf("composed: %v %q %+v\n%s", err, id, o, msg)
	}
	o = Options{}
	msg, id, err = Draft{From: "a@example.org", To: []string{"b@example.org"}, Data: whole, Headers: []string{"X-Test: 1"}}.Build(&o)
	if err != nil || id != "<w@example.org>" || !strings.HasPrefix(string(msg), "X-Test: 1\r\nSubject: hi\r\n") {
		t.Errorf("whole: %v %q\n%s", err, id, msg)
	}
	for _, tc := range []struct {
		d    Draft
		want string
	}{
		{Draft{To: []string{"b@example.org"}}, "--from and --to are required"},
		{Draft{From: "not an address", To: []string{"b@example.org"}}, "--from: "},
		{Draft{From: "a@example.org", To: []string{"b@"}}, "--to: "},
		{Draft{From: "a@example.org", To: []string{"b@example.org"}, Body: "x", Data: whole}, "give one of --body, --body-file and --data"},
		{Draft{From: "a@example.org", To: []string{"b@example.org"}, Data: whole, Subject: "s"}, "--subject and --attach do not apply"},
		{Draft{From: "a@example.org", To: []string{"b@example.org"}, Headers: []string{"no colon"}}, "--header: "},
		{Draft{From: "a@example.org", To: []string{"b@example.org"}, Attach: []string{dir + "/none"}}, "--attach: "},
	} {
		if _, _, err := tc.d.Build(&Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.d, err, tc.want)
		}
	}
}

// TestHas8Bit tells 8-bit messages from 7-bit ones.
func TestHas8Bit(t *testing.T) {
	if Has8Bit([]byte("plain\r\n")) || !Has8Bit([]byte("Gr\xc3\xbc\xc3\x9fe\r\n")) {
		t.Error("Has8Bit is wrong")
	}
	if n := DefaultClientName(); n == "" || strings.ContainsAny(n, " _/") {
		t.Errorf("client name %q", n)
	}
}
