package pop3fetch

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/agent/session"
	"github.com/mailcheck/mailcheck/agent/smtpsend"
	"github.com/mailcheck/mailcheck/agent/transcript"
	"github.com/mailcheck/mailcheck/reference"
	"github.com/mailcheck/mailcheck/target"
)

// scripted serves one POP3 session on loopback: each command line gets the
// reply (one or more lines, CRLF added; <LF> is a bare LF) scripted for
// it; USER and PASS
// get +OK unless scripted.
func scripted(t *testing.T, replies map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(conn)
		conn.Write([]byte("+OK fake POP3\r\n"))
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.TrimRight(line, "\r\n")
			reply, ok := replies[cmd]
			if !ok {
				reply = "-ERR unknown"
				if strings.HasPrefix(cmd, "USER ") || strings.HasPrefix(cmd, "PASS ") {
					reply = "+OK"
				}
			}
			conn.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(reply, "\n", "\r\n"), "<LF>", "\n") + "\r\n"))
			if cmd == "QUIT" {
				return
			}
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func dial(t *testing.T, addr, password string, tr *transcript.Transcript) (*Client, error) {
	t.Helper()
	target, err := target.ParseTarget("pop3://"+addr, "")
	if err != nil {
		t.Fatal(err)
	}
	return Dial(context.Background(), session.Options{
		Target: target, StartTLS: session.StartTLSAuto, User: "bob", Password: password,
		Timeout: 5 * time.Second, Transcript: tr,
	})
}

// RETR's byte stuffing is undone exactly (RFC 1939 §3): a line "..." is
// "..", ".." is ".", and nothing else changes, not even a bare LF.
func TestRetrieveUndoesByteStuffing(t *testing.T) {
	addr := scripted(t, map[string]string{
		"LIST":   "+OK\n1 30\n.",
		"UIDL":   "+OK\n1 abc/1\n.",
		"RETR 1": "+OK\nSubject: x\n\n..\n...\n..x\nbare<LF>LF.\n.",
		"QUIT":   "+OK bye",
	})
	cl, err := dial(t, addr, "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := cl.List()
	if err != nil || len(entries) != 1 || entries[0] != (Entry{Num: 1, Size: 30, UIDL: "abc/1"}) {
		t.Fatalf("List: %+v %v", entries, err)
	}
	msg, err := cl.Retrieve(1)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Subject: x\r\n\r\n.\r\n..\r\n.x\r\nbare\nLF.\r\n"; string(msg) != want {
		t.Errorf("got %q, want %q", msg, want)
	}
	if err := cl.Quit(); err != nil {
		t.Error(err)
	}
}

// [IN-USE] at PASS is ErrInUse, for a caller that waits to try again.
func TestInUse(t *testing.T) {
	addr := scripted(t, map[string]string{"PASS pw": "-ERR [IN-USE] maildrop locked"})
	_, err := dial(t, addr, "pw", nil)
	if !errors.Is(err, ErrInUse) || session.StageOf(err) != session.Auth {
		t.Errorf("err %v: want ErrInUse in the auth stage", err)
	}
}

// A refused QUIT after DELE is a failure (the deletion may not have
// happened); without DELE it does not matter.
func TestQuitCommitsDeletions(t *testing.T) {
	addr := scripted(t, map[string]string{"DELE 1": "+OK marked", "QUIT": "-ERR could not delete"})
	cl, err := dial(t, addr, "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Delete(1); err != nil {
		t.Fatal(err)
	}
	if err := cl.Quit(); session.StageOf(err) != session.Delete {
		t.Errorf("QUIT refused after DELE: %v, want a failure in the delete stage", err)
	}
}

// Against the reference server: STLS, login, LIST, TOP and RETR; the
// message is byte for byte the file in the Maildir, and the password is
// never in the transcript.
func TestReferenceServer(t *testing.T) {
	srv, trust, err := reference.StartLoopback(func(c *reference.Config) { c.Users.Add("alice", "alice-Pw-1") })
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(srv.DataDir())
	defer srv.Close()
	smtp, _ := target.ParseTarget("smtp://"+srv.SMTPAddr(), "")
	body := []byte("Subject: stuffing\r\n\r\n.\r\n..\r\n.x\r\n")
	if _, err := smtpsend.Send(context.Background(), smtpsend.Options{
		Options: session.Options{Target: smtp, TLS: trust, StartTLS: session.StartTLSAlways, Timeout: 5 * time.Second},
		From:    "x@example.org", To: []string{"alice@" + reference.LoopbackDomain},
	}, body); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	target, _ := target.ParseTarget("pop3://"+srv.Addr("pop3"), "")
	cl, err := Dial(context.Background(), session.Options{
		Target: target, TLS: trust, StartTLS: session.StartTLSAlways, User: "alice", Password: "alice-Pw-1",
		Timeout: 5 * time.Second, Transcript: transcript.New(&out, false),
	})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := cl.List()
	if err != nil || len(entries) != 1 || entries[0].UIDL == "" {
		t.Fatalf("List: %+v %v", entries, err)
	}
	head, err := cl.Header(1)
	if err != nil || !bytes.HasSuffix(head, []byte("Subject: stuffing\r\n\r\n")) {
		t.Errorf("TOP 1 0: %q %v", head, err)
	}
	msg, err := cl.Retrieve(1)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(srv.DataDir(), "mail", "alice", "new", "*"))
	if len(files) != 1 {
		t.Fatalf("maildir: %v", files)
	}
	stored, _ := os.ReadFile(files[0])
	if !bytes.Equal(msg, stored) || !bytes.HasSuffix(msg, body[len("Subject: stuffing\r\n"):]) || int64(len(msg)) != entries[0].Size {
		t.Errorf("RETR gave %q\nthe maildir holds %q", msg, stored)
	}
	if err := cl.Quit(); err != nil {
		t.Error(err)
	}
	if strings.Contains(out.String(), "alice-Pw-1") || !strings.Contains(out.String(), "C: PASS ****\n") || !strings.Contains(out.String(), "# TLS established") {
		t.Errorf("transcript:\n%s", out.String())
	}
}

// TestListingIsBounded: a server that streams a LIST without end gets an
// error once the listing passes maxListingBytes, not the client's memory.
func TestListingIsBounded(t *testing.T) {
	defer func(n int) { maxListingBytes = n }(maxListingBytes)
	maxListingBytes = 4 << 10
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(conn)
		conn.Write([]byte("+OK fake POP3\r\n"))
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch {
			case strings.HasPrefix(line, "CAPA"):
				conn.Write([]byte("-ERR no CAPA\r\n"))
				continue
			case !strings.HasPrefix(line, "LIST"):
				conn.Write([]byte("+OK\r\n"))
				continue
			}
			conn.Write([]byte("+OK endless\r\n"))
			for i := 1; ; i++ {
				if _, err := fmt.Fprintf(conn, "%d 100\r\n", i); err != nil {
					return
				}
			}
		}
	}()
	cl, err := dial(t, ln.Addr().String(), "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.List(); err == nil || !strings.Contains(err.Error(), "multi-line reply of more than") {
		t.Errorf("an endless LIST: %v, want the bound's error", err)
	}
}
