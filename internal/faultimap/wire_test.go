package faultimap

import (
	"slices"
	"strings"
	"testing"

	"github.com/mailcheck/mailcheck/internal/faultproxy"
)

func TestMailboxName(t *testing.T) {
	for in, want := range map[string]string{
		"mailcheck-1f":                    "mailcheck-1f",
		"INBOX.a (\"CHILDINFO\" (\"X\"))": "INBOX.a",
		`"a \"b\" \\c"`:                   `a "b" \c`,
		`"with space" ("CHILDINFO")`:      "with space",
	} {
		if got := mailboxName(in); got != want {
			t.Errorf("mailboxName(%q) = %q, want %q", in, got, want)
		}
	}
}

// converse runs lines through a per-connection proxy fault: client lines
// start with "C: ", and the result is what the client gets.
func converse(f *faultproxy.Fault, lines ...string) []string {
	conn := f.PerConn()
	var out []string
	for i, l := range lines {
		if c, ok := strings.CutPrefix(l, "C: "); ok {
			conn.Client(c + "\r\n")
			continue
		}
		out = append(out, conn.Server(i, l+"\r\n")...)
	}
	for i := range out {
		out[i] = strings.TrimSuffix(out[i], "\r\n")
	}
	return out
}

func TestUIDsNotAscendingSwapsAcrossLiterals(t *testing.T) {
	got := converse(UIDsNotAscending,
		"C: mc1 FETCH 1:3 (UID BODY.PEEK[])",
		"* 1 FETCH (UID 5 BODY[] {3}", "abc)",
		"* 2 FETCH (UID 7 BODY[] {3}", "def)",
		"* 3 FETCH (UID 9 BODY[] {3}", "ghi)",
		"mc1 OK FETCH completed",
		"C: mc2 FETCH 1:2 (UID)",
		"* 1 FETCH (UID 5)", "* 2 FETCH (UID 7)",
		"mc2 OK FETCH completed")
	want := []string{
		"* 1 FETCH (UID 7 BODY[] {3}", "abc)",
		"* 2 FETCH (UID 5 BODY[] {3}", "def)",
		"* 3 FETCH (UID 9 BODY[] {3}", "ghi)",
		"mc1 OK FETCH completed",
		"* 1 FETCH (UID 7)", "* 2 FETCH (UID 5)",
		"mc2 OK FETCH completed",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestNoFlagUpdatesDropsOnlyUnsolicitedFetch(t *testing.T) {
	got := converse(NoFlagUpdates,
		"C: mc1 NOOP",
		"* 1 FETCH (FLAGS (\\Seen))",
		"mc1 OK NOOP completed",
		"C: mc2 STORE 1 +FLAGS (\\Flagged)",
		"* 1 FETCH (UID 4 FLAGS (\\Seen \\Flagged))",
		"mc2 OK STORE completed")
	want := []string{"mc1 OK NOOP completed", "* 1 FETCH (UID 4 FLAGS (\\Seen \\Flagged))", "mc2 OK STORE completed"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestExpungeDuringFetchPrecedesOnlyHeldBackCommands(t *testing.T) {
	conn := ExpungeDuringFetch.PerConn()
	for _, c := range []struct{ in, want string }{
		{"mc1 FETCH 1:3 (FLAGS)\r\n", "faultimap-noop NOOP\r\nmc1 FETCH 1:3 (FLAGS)\r\n"},
		{"mc2 store 3 +FLAGS (\\Flagged)\r\n", "faultimap-noop NOOP\r\nmc2 store 3 +FLAGS (\\Flagged)\r\n"},
		{"mc3 UID FETCH 1:* (UID)\r\n", "mc3 UID FETCH 1:* (UID)\r\n"},
		{"mc4 APPEND box {22}\r\n", "mc4 APPEND box {22}\r\n"},
		// A literal's data is no command, even when it reads like one.
		{"x SEARCH ALL\r\n", "x SEARCH ALL\r\n"},
		{"y FETCH 1 ALL\r\n", "y FETCH 1 ALL\r\n"},
		{"mc5 SEARCH HEADER X {3}\r\n", "faultimap-noop NOOP\r\nmc5 SEARCH HEADER X {3}\r\n"},
		{"abc\r\n", "abc\r\n"},
		{"mc6 SEARCH ALL\r\n", "faultimap-noop NOOP\r\nmc6 SEARCH ALL\r\n"},
	} {
		if got := conn.Rewrite(c.in); got != c.want {
			t.Errorf("%q sent as %q, want %q", c.in, got, c.want)
		}
	}
	got := converse(ExpungeDuringFetch, "* 2 EXPUNGE", "faultimap-noop OK NOOP completed", "mc1 OK FETCH completed")
	if want := []string{"* 2 EXPUNGE", "mc1 OK FETCH completed"}; !slices.Equal(got, want) {
		t.Errorf("client got %q, want %q", got, want)
	}
}
