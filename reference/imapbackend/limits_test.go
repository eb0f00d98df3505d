package imapbackend

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// greetingOf dials the server and returns its first line.
func greetingOf(t *testing.T, addr string) (string, net.Conn) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("greeting: %v", err)
	}
	return l, conn
}

// TestConnectionLimit checks MaxConnections: a connection over it gets
// BYE [UNAVAILABLE] in place of the greeting (RFC 9051 §7.1.5), and a
// slot is free again once a session ends.
func TestConnectionLimit(t *testing.T) {
	ts := startIMAPWith(t, t.TempDir(), func(o *Options) { o.MaxConnections = 2 })
	_, a := greetingOf(t, ts.addr)
	greetingOf(t, ts.addr)
	if l, _ := greetingOf(t, ts.addr); !strings.HasPrefix(l, "* BYE [UNAVAILABLE]") {
		t.Errorf("third connection with a limit of 2: %q", l)
	}
	a.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, _ := greetingOf(t, ts.addr)
		if strings.HasPrefix(l, "* OK") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot freed after a session ended: %q", l)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNoClearTextLoginWithoutTLS checks that a server with no TLS to offer
// does not take passwords in clear unless InsecureAuth says so.
func TestNoClearTextLoginWithoutTLS(t *testing.T) {
	ts := startIMAPWith(t, t.TempDir(), func(o *Options) { o.InsecureAuth = false })
	greeting, conn := greetingOf(t, ts.addr)
	if !strings.Contains(greeting, "LOGINDISABLED") {
		t.Errorf("greeting %q: want LOGINDISABLED (RFC 9051 §6.2.3)", greeting)
	}
	rc := &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
	if out := rc.cmd("a LOGIN bob pw"); !strings.Contains(out, "a NO [PRIVACYREQUIRED]") {
		t.Errorf("LOGIN without TLS: %q", out)
	}
}

// TestAppendLimit checks APPENDLIMIT (RFC 7889): advertised, and a larger
// literal refused from its announced size without a continuation.
func TestAppendLimit(t *testing.T) {
	ts := startIMAPWith(t, t.TempDir(), func(o *Options) { o.MaxAppendBytes = 1000 })
	rc := ts.raw("bob")
	if out := rc.cmd("c CAPABILITY"); !strings.Contains(out, "APPENDLIMIT=1000") {
		t.Errorf("CAPABILITY: %q", out)
	}
	if out := rc.cmd("a APPEND INBOX {1001}"); !strings.HasPrefix(out, "a NO [TOOBIG]") {
		t.Errorf("APPEND of 1001 octets: %q", out)
	}
	rc.conn.Write([]byte("b APPEND INBOX {5}\r\n"))
	if l := rc.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("APPEND of 5 octets: %q, want a continuation", l)
	}
	rc.conn.Write([]byte("hello\r\n"))
	if l := rc.line(); !strings.HasPrefix(l, "b OK") {
		t.Errorf("APPEND of 5 octets: %q", l)
	}
}
