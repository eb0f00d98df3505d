package readback

import (
	"bufio"
	"context"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/internal/loopback"
)

const sentMsg = "Date: Mon, 7 Dec 2026 23:00:00 +0000\r\nFrom: <a@x.invalid>\r\nSubject: s\r\nX-Mailcheck-Nonce: 1\r\n\r\nbody\r\nFrom here\r\n"

func TestCompare(t *testing.T) {
	for _, c := range []struct {
		name, got string
		want      string // "" for intact, else a phrase the verdict holds
	}{
		{"identical", sentMsg, ""},
		{"trace fields on top", "Return-Path: <a@x.invalid>\r\nReceived: from x by y; Mon, 7 Dec 2026 23:00:01 +0000\r\n" + sentMsg, ""},
		{"a field at the end of the header", strings.Replace(sentMsg, "\r\n\r\n", "\r\nX-Spam: no\r\n\r\n", 1), ""},
		{"CRLF appended", sentMsg + "\r\n", `appends "\r\n"`},
		{"From quoted", strings.Replace(sentMsg, "From here", ">From here", 1), "body line 2 was altered"},
		{"body cut", strings.TrimSuffix(sentMsg, "here\r\n"), "cuts the body short"},
		{"fields reordered", strings.Replace(sentMsg, "From: <a@x.invalid>\r\nSubject: s\r\n", "Subject: s\r\nFrom: <a@x.invalid>\r\n", 1), "reordered"},
		{"field changed", strings.Replace(sentMsg, "Subject: s", "Subject: S", 1), `came back as "Subject: S`},
		{"field removed", strings.Replace(sentMsg, "Subject: s\r\n", "", 1), "is missing"},
		{"no header end", "Subject: s\r\n", "no empty line"},
	} {
		got := Compare([]byte(sentMsg), []byte(c.got))
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: Compare says %q, want %q", c.name, got, c.want)
		}
	}
}

// TestIMAPLiteralIsReadBounded: a server announcing a literal of 2 GB
// gets an error, and nothing near that size is allocated.
func TestIMAPLiteralIsReadBounded(t *testing.T) {
	addr := loopback.Serve(t, func(c net.Conn) {
		defer c.Close()
		c.Write([]byte("* OK IMAP4rev2 ready\r\n"))
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, cmd, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch {
			case strings.HasPrefix(cmd, "CAPABILITY"):
				c.Write([]byte("* CAPABILITY IMAP4rev2\r\n" + tag + " OK done\r\n"))
			case strings.HasPrefix(cmd, "UID SEARCH"):
				c.Write([]byte("* SEARCH 7\r\n" + tag + " OK done\r\n"))
			case strings.HasPrefix(cmd, "UID FETCH"):
				c.Write([]byte("* 1 FETCH (UID 7 BODY[] {2000000000}\r\nshort\r\n"))
				time.Sleep(100 * time.Millisecond)
				return
			default:
				c.Write([]byte(tag + " OK done\r\n"))
			}
		}
	})
	target, err := engine.ParseTarget("imap://bob:pw@"+addr, "")
	if err != nil {
		t.Fatal(err)
	}
	opts := engine.Options{}.WithDefaults()
	opts.ReadTimeout = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	msg, err := Once(ctx, engine.Detached("test", target, &opts), target, "1")
	runtime.ReadMemStats(&after)
	if err == nil || msg != nil {
		t.Fatalf("Once returned %q, %v; want an error", msg, err)
	}
	if !strings.Contains(err.Error(), "literal") {
		t.Errorf("error %q does not name the literal", err)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 64<<20 {
		t.Errorf("%d octets allocated for an announced literal", grown)
	}
}
