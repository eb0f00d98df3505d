package imapbackend

import (
	"strings"
	"testing"
)

// TestPartialBinaryHasOrigin: a partial BINARY answer names where the piece
// starts, "BINARY[1]<2>" (RFC 3516 §4.2, RFC 9051 §7.5.2), and a UID FETCH
// answer carries UID in it (RFC 9051 §6.4.9).
func TestPartialBinaryHasOrigin(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	ts.deliver("bob", "From: a@b.org\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n")
	rc := ts.raw("bob")
	rc.cmd("s SELECT INBOX")
	if out := rc.cmd("f1 FETCH 1 (BINARY.PEEK[1]<6.5>)"); !strings.Contains(out, "* 1 FETCH (BINARY[1]<6> ~{5}\r\nworld)\r\n") {
		t.Errorf("partial BINARY without its origin:\n%q", out)
	}
	out := rc.cmd("f2 UID FETCH 1 (FLAGS BINARY.PEEK[1]<0.5>)")
	if !strings.Contains(out, "* 1 FETCH (UID 1 BINARY[1]<0> ~{5}\r\nhello)\r\n") || !strings.Contains(out, "* 1 FETCH (UID 1 FLAGS") {
		t.Errorf("UID FETCH of a partial BINARY and FLAGS:\n%q", out)
	}
}
