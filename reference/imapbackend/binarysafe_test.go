package imapbackend

import (
	"fmt"
	"strings"
	"testing"
)

// TestAppendBinaryContentIsReEncoded: a message appended with a NUL (in a
// literal8) is stored so that BODY[...] carries no NUL in its literal (RFC
// 9051 §9, CHAR8), while BINARY[...] gives the octets back (RFC 3516).
func TestAppendBinaryContentIsReEncoded(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	rc := ts.raw("bob")
	msg := "From: a@b.org\r\nMime-Version: 1.0\r\nContent-Type: application/octet-stream\r\n" +
		"Content-Transfer-Encoding: binary\r\n\r\n\x00\xed\r\n\r\n"
	if out := rc.cmd(fmt.Sprintf("a APPEND INBOX ~{%d+}\r\n%s", len(msg), msg)); !strings.Contains(out, "a OK") {
		t.Fatalf("APPEND of binary content:\n%q", out)
	}
	rc.cmd("s SELECT INBOX")
	body := rc.cmd("f1 FETCH 1 BODY.PEEK[1]")
	if strings.Contains(body, "\x00") || !strings.Contains(body, "AO0NCg0K") {
		t.Errorf("BODY[1] of binary content is not base64:\n%q", body)
	}
	bin := rc.cmd("f2 FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])")
	if !strings.Contains(bin, "BINARY.SIZE[1] 6") || !strings.Contains(bin, "~{6}\r\n\x00\xed\r\n\r\n") {
		t.Errorf("BINARY[1] does not give the appended octets back:\n%q", bin)
	}
}
