package imapbackend

import (
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// withoutRecent drops \Recent, the flag exactly one session sees (RFC 3501
// §2.3.2), where a test compares the flags every session shares.
func withoutRecent(flags []imap.Flag) []imap.Flag {
	return slices.DeleteFunc(slices.Clone(flags), func(f imap.Flag) bool { return strings.EqualFold(string(f), flagRecent) })
}

// TestRecentInOneSession: a message is recent in exactly one session, the
// first read-write one told of it (RFC 3501 §2.3.2); EXAMINE and STATUS
// see it without taking it; a session that ENABLEs IMAP4rev2 never sees it
// (RFC 9051 removed it).
func TestRecentInOneSession(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	ts.deliver("bob", testMessage)
	ts.deliver("bob", testMessage)
	a, b := ts.raw("bob"), ts.raw("bob")
	if out := a.cmd("a1 EXAMINE INBOX"); !strings.Contains(out, "* 2 RECENT") {
		t.Errorf("EXAMINE before anyone selected:\n%s", out)
	}
	if out := b.cmd("b1 STATUS INBOX (RECENT)"); !strings.Contains(out, "RECENT 2") {
		t.Errorf("EXAMINE took the recent messages; STATUS says:\n%s", out)
	}
	if out := a.cmd("a2 SELECT INBOX"); !strings.Contains(out, "* 2 RECENT") {
		t.Errorf("first SELECT:\n%s", out)
	}
	if out := a.cmd("a3 FETCH 1 FLAGS"); !strings.Contains(out, `\Recent`) {
		t.Errorf("FETCH FLAGS in the session holding them recent:\n%s", out)
	}
	if out := b.cmd("b2 SELECT INBOX"); !strings.Contains(out, "* 0 RECENT") {
		t.Errorf("second SELECT:\n%s", out)
	}
	if out := b.cmd("b3 FETCH 1 FLAGS"); strings.Contains(out, `\Recent`) {
		t.Errorf("recent in a second session:\n%s", out)
	}
	ts.deliver("bob", testMessage)
	if out := a.cmd("a4 NOOP"); !strings.Contains(out, "* 3 EXISTS") || !strings.Contains(out, "* 3 RECENT") {
		t.Errorf("new mail, first session told:\n%s", out)
	}
	if out := b.cmd("b4 NOOP"); !strings.Contains(out, "* 3 EXISTS") || !strings.Contains(out, "* 0 RECENT") {
		t.Errorf("new mail, second session told:\n%s", out)
	}
	if out := a.cmd("a5 SEARCH RECENT"); !strings.Contains(out, "* SEARCH 1 2 3\r\n") {
		t.Errorf("SEARCH RECENT:\n%s", out)
	}
	if out := b.cmd("b5 SEARCH OLD"); !strings.Contains(out, "* SEARCH 1 2 3\r\n") {
		t.Errorf("SEARCH OLD in the second session:\n%s", out)
	}
	if out := a.cmd("a6 STORE 1 FLAGS (\\Seen)"); !strings.Contains(out, `FLAGS (\Seen \Recent)`) {
		t.Errorf("STORE's FETCH drops the session's \\Recent:\n%s", out)
	}
	c := ts.raw("bob")
	c.cmd("c1 ENABLE IMAP4rev2")
	c.cmd("c2 EXAMINE INBOX")
	if out := c.cmd("c3 FETCH 1:* FLAGS"); strings.Contains(out, `\Recent`) {
		t.Errorf("\\Recent in an IMAP4rev2 session:\n%s", out)
	}
}

// TestRecentRetoldAfterExpunge: the session is told the lower number when
// a recent message is expunged, so the number it keeps never exceeds the
// messages it holds (imaptest's checkpoint sums them).
func TestRecentRetoldAfterExpunge(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	ts.deliver("bob", testMessage)
	ts.deliver("bob", testMessage)
	a := ts.raw("bob")
	if out := a.cmd("a1 SELECT INBOX"); !strings.Contains(out, "* 2 RECENT") {
		t.Fatalf("SELECT:\n%s", out)
	}
	a.cmd(`a2 STORE 1 +FLAGS.SILENT (\Deleted)`)
	if out := a.cmd("a3 EXPUNGE"); !strings.Contains(out, "* 1 EXPUNGE") || !strings.Contains(out, "* 1 RECENT") {
		t.Errorf("EXPUNGE of a recent message:\n%s", out)
	}
	if out := a.cmd("a4 NOOP"); strings.Contains(out, "RECENT") {
		t.Errorf("RECENT again with nothing changed:\n%s", out)
	}
}
