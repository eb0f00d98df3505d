package fetch

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMatches(t *testing.T) {
	m := Message{Header: []byte("Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID:\r\n <folded@example.org>\r\nX-Test: 1\r\n\r\n")}
	for _, tc := range []struct {
		fields []Field
		want   bool
	}{
		{nil, true},
		{[]Field{{"Subject", "Grüße"}}, true},
		{[]Field{{"subject", "=?utf-8?q?Gr=C3=BC=C3=9Fe?="}}, true},
		{[]Field{{"Message-ID", "<folded@example.org>"}}, true},
		{[]Field{{"Message-ID", "<folded@example.org>"}, {"X-Test", "1"}}, true},
		{[]Field{{"Message-ID", "<folded@example.org>"}, {"X-Test", "2"}}, false},
		{[]Field{{"Subject", "Grüß"}}, false},
		{[]Field{{"X-Missing", ""}}, false},
	} {
		if got := m.Matches(tc.fields); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.fields, got, tc.want)
		}
	}
	if m.Subject() != "Grüße" {
		t.Errorf("Subject() = %q", m.Subject())
	}
}

func TestWriteMboxQuotesFromLines(t *testing.T) {
	var b bytes.Buffer
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := WriteMbox(&b, []byte("Subject: x\r\n\r\nFrom here\r\n>From there\r\nFrom"), at); err != nil {
		t.Fatal(err)
	}
	want := "From mailcheck Fri Jan  2 03:04:05 2026\r\nSubject: x\r\n\r\n>From here\r\n>>From there\r\nFrom\r\n\r\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
}

func TestSaveEML(t *testing.T) {
	dir := t.TempDir()
	data := []byte("Subject: x\r\n\r\nbare\nLF and \x00\r\n")
	path, err := SaveEML(dir, Message{FileName: "17"}, data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, data) || path != filepath.Join(dir, "17.eml") {
		t.Errorf("%s: %q %v", path, got, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".fetch-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if got := safeFileName("../a/b c+1"); !strings.HasPrefix(got, "_a_b_c_1-") || len(got) != len("_a_b_c_1-")+8 {
		t.Errorf("safeFileName = %q", got)
	}
	// UIDLs that map to the same characters still get their own files.
	if a, b := safeFileName("a/b"), safeFileName("a_b"); a == b {
		t.Errorf("safeFileName(a/b) = safeFileName(a_b) = %q", a)
	}
	if got := safeFileName("1.3"); got != "1.3" {
		t.Errorf("a safe UIDL changed: %q", got)
	}
}
