package fetch

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/agent/session"
	"github.com/mailcheck/mailcheck/bounds"
	"github.com/mailcheck/mailcheck/internal/leakcheck"
	"github.com/mailcheck/mailcheck/internal/loopback"
	"github.com/mailcheck/mailcheck/target"
)

// heapBound is what a fetch may hold while a hostile server floods it:
// the 200 MiB (a message is held whole, up to the policy's
// 64 MiB Literal, before it is written out).
const heapBound = 200 << 20

// floodFor bounds how long a fake server floods: the client must have
// given up long before.
const floodFor = 60 * time.Second

// floodBytes caps a flood: endless to a client that holds to its bounds
// (64 MiB a message), and no more than a test machine can spare to one
// that does not.
const floodBytes = 512 << 20

// flood writes lines to c until the client goes away, or floodBytes.
func flood(c net.Conn) {
	c.SetWriteDeadline(time.Now().Add(floodFor))
	chunk := bytes.Repeat([]byte("flood line of a message that never ends\r\n"), 1000)
	for sent := 0; sent < floodBytes; sent += len(chunk) {
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
	time.Sleep(floodFor) // and then silence: the client must not wait for ever
}

// fakeServer greets and answers each command line with answer; answer
// returns false to end the session.
func fakeServer(t *testing.T, greeting string, answer func(line string, c net.Conn) bool) string {
	return loopback.Serve(t, func(c net.Conn) {
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(floodFor))
		c.Write([]byte(greeting + "\r\n"))
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil || !answer(strings.TrimRight(line, "\r\n"), c) {
				return
			}
		}
	})
}

func openFake(t *testing.T, ctx context.Context, url string) Mailbox {
	t.Helper()
	tg, err := target.ParseTarget(url, "")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := Open(ctx, Options{Options: session.Options{Target: tg, User: "bob", Password: "pw", Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return mb
}

// TestIMAPHugeLiteralIsRefused: an IMAP server that announces a literal
// of 2 GB for a message's header and then sends without end gets a clear
// error, and the fetch holds far less than what was announced.
func TestIMAPHugeLiteralIsRefused(t *testing.T) {
	addr := fakeServer(t, "* OK [CAPABILITY IMAP4rev1] hostile", func(line string, c net.Conn) bool {
		tag, cmd, _ := strings.Cut(line, " ")
		switch verb, _, _ := strings.Cut(strings.ToUpper(cmd), " "); verb {
		case "SELECT", "EXAMINE":
			c.Write([]byte("* 1 EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n" + tag + " OK [READ-ONLY] done\r\n"))
		case "UID":
			c.Write([]byte("* 1 FETCH (UID 7 RFC822.SIZE 10 BODY[HEADER] {2000000000}\r\n"))
			flood(c)
			return false
		default:
			c.Write([]byte(tag + " OK done\r\n"))
		}
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), floodFor)
	defer cancel()
	mb := openFake(t, ctx, "imap://"+addr)
	defer mb.Abort()
	var err error
	grown := leakcheck.HeapGrowth(func() { _, err = mb.Messages("7") })
	if !errors.Is(err, bounds.ErrExceeded) || !strings.Contains(err.Error(), "2000000000") {
		t.Errorf("a 2 GB literal: %v, want it refused naming its size", err)
	}
	if grown > heapBound {
		t.Errorf("the heap grew %d MiB for an announced 2 GB literal", grown>>20)
	}
	t.Logf("%v; heap grew %.1f MiB", err, float64(grown)/(1<<20))
}

// TestPOP3EndlessRetrIsBounded: a POP3 server whose RETR never sends its
// "." line gets a clear error at the message bound, not the client's
// memory.
func TestPOP3EndlessRetrIsBounded(t *testing.T) {
	addr := fakeServer(t, "+OK hostile", func(line string, c net.Conn) bool {
		switch verb, _, _ := strings.Cut(strings.ToUpper(line), " "); verb {
		case "CAPA", "UIDL", "TOP":
			c.Write([]byte("-ERR no\r\n"))
		case "LIST":
			c.Write([]byte("+OK\r\n1 100\r\n.\r\n"))
		case "RETR":
			c.Write([]byte("+OK endless\r\n"))
			flood(c)
			return false
		default:
			c.Write([]byte("+OK\r\n"))
		}
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), floodFor)
	defer cancel()
	mb := openFake(t, ctx, "pop3://"+addr)
	defer mb.Abort()
	ms, err := mb.Messages("")
	if err != nil || len(ms) != 1 {
		t.Fatalf("LIST: %v %v", ms, err)
	}
	grown := leakcheck.HeapGrowth(func() { _, err = mb.Retrieve(ms[0]) })
	if !errors.Is(err, bounds.ErrExceeded) || session.StageOf(err) != session.Retrieve {
		t.Errorf("an endless RETR: %v, want the message bound's error in the retrieve stage", err)
	}
	if grown > heapBound {
		t.Errorf("the heap grew %d MiB for an endless RETR", grown>>20)
	}
	t.Logf("%v; heap grew %.1f MiB", err, float64(grown)/(1<<20))
}
