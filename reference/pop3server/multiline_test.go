package pop3server

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// stuffed runs copyMessage and end over msg and returns the wire octets
// and the count copyMessage reports.
func stuffed(t testing.TB, msg string, bodyLines int64) (string, int64) {
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	m := newMultiline(w)
	// A small reader buffer, so that long lines come in pieces.
	n, err := m.copyMessage(bufio.NewReaderSize(strings.NewReader(msg), 16), bodyLines)
	if err != nil {
		t.Fatal(err)
	}
	m.end()
	w.Flush()
	return out.String(), n
}

func TestCopyMessage(t *testing.T) {
	long := strings.Repeat("h", 40)
	tests := []struct {
		msg       string
		bodyLines int64
		wire      string
	}{
		{"", -1, ".\r\n"},
		{"a\r\n", -1, "a\r\n.\r\n"},
		{"a", -1, "a\r\n.\r\n"}, // no final CRLF: one is added before the end
		{".\r\n", -1, "..\r\n.\r\n"},
		{".", -1, "..\r\n.\r\n"},
		{"a\r\n.\r\n..\r\n.x\r\nx.\r\n", -1, "a\r\n..\r\n...\r\n..x\r\nx.\r\n.\r\n"},
		{"a\n.\n", -1, "a\n..\n\r\n.\r\n"}, // bare LF: stuffed, and CRLF before the end
		{"\n", -1, "\n\r\n.\r\n"},
		{"a\r", -1, "a\r\r\n.\r\n"},
		{"a\r.\r\n", -1, "a\r.\r\n.\r\n"},
		{long + "\r\n." + long + "\r\n", -1, long + "\r\n.." + long + "\r\n.\r\n"},
		{"." + long + "\r\n\r\n." + long + "\r\n", 0, ".." + long + "\r\n\r\n.\r\n"},
		{"H: 1\r\n\r\n.1\r\n2\r\n3\r\n", 2, "H: 1\r\n\r\n..1\r\n2\r\n.\r\n"},
		{"H: 1\r\n\r\n\r\n\r\nb\r\n", 1, "H: 1\r\n\r\n\r\n.\r\n"},
		{"H: 1\r\n", 0, "H: 1\r\n.\r\n"},
		{"H: 1\r\n\r\nb", 5, "H: 1\r\n\r\nb\r\n.\r\n"},
	}
	for _, tc := range tests {
		wire, n := stuffed(t, tc.msg, tc.bodyLines)
		if wire != tc.wire {
			t.Errorf("%q (%d lines): got %q, want %q", tc.msg, tc.bodyLines, wire, tc.wire)
		}
		if tc.bodyLines < 0 && n != int64(len(tc.msg)) {
			t.Errorf("%q: %d octets counted, want %d", tc.msg, n, len(tc.msg))
		}
	}
}

// FuzzCopyMessage checks byte-stuffing both ways: the only terminator on
// the wire is the last line, and a message of CRLF lines comes back
// byte-exact from a client that undoes the stuffing (RFC 1939 §3).
func FuzzCopyMessage(f *testing.F) {
	for _, seed := range []string{"", ".", "..", ".\r\n", "a\r\n.\r\nb\r\n", "a\n.\nb", "a\r.\r", "x\r\n..\r\n.x\r\n", "\r\n.\r\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		wire, n := stuffed(t, msg, -1)
		if n != int64(len(msg)) {
			t.Fatalf("%d octets counted, want %d", n, len(msg))
		}
		if i := strings.Index("\r\n"+wire, "\r\n.\r\n"); i != len(wire)-3 {
			t.Fatalf("terminator at %d in %q", i, wire)
		}
		if strings.ContainsAny(strings.ReplaceAll(msg, "\r\n", ""), "\r\n") {
			return // bare CR or LF: not a message of CRLF lines
		}
		var got strings.Builder
		for _, line := range strings.SplitAfter(strings.TrimSuffix(wire, ".\r\n"), "\r\n") {
			got.WriteString(strings.TrimPrefix(line, "."))
		}
		want := msg
		if want != "" && !strings.HasSuffix(want, "\r\n") {
			want += "\r\n"
		}
		if got.String() != want {
			t.Fatalf("unstuffed %q, want %q", got.String(), want)
		}
	})
}
