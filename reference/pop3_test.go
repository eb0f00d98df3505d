package reference

import (
	"bufio"
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// pop3Client is a line-level POP3 client for tests.
type pop3Client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

// dialPOP3 connects and logs in.
func dialPOP3(t *testing.T, addr, user, pass string) *pop3Client {
	t.Helper()
	c := dialPOP3Raw(t, addr)
	c.ok("USER " + user)
	c.ok("PASS " + pass)
	return c
}

// dialPOP3Raw connects and reads the greeting.
func dialPOP3Raw(t *testing.T, addr string) *pop3Client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &pop3Client{t: t, conn: conn, r: bufio.NewReader(conn)}
	c.ok("")
	return c
}

// send sends a line and returns the one-line reply.
func (c *pop3Client) send(cmd string) string {
	c.t.Helper()
	c.conn.Write([]byte(cmd + "\r\n"))
	return c.line()
}

func (c *pop3Client) line() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// ok sends cmd (unless empty) and expects +OK.
func (c *pop3Client) ok(cmd string) string {
	c.t.Helper()
	if cmd != "" {
		c.conn.Write([]byte(cmd + "\r\n"))
	}
	l := c.line()
	if !strings.HasPrefix(l, "+OK") {
		c.t.Fatalf("%s: %s", cmd, l)
	}
	return l
}

// multi sends cmd and returns the unstuffed multi-line body.
func (c *pop3Client) multi(cmd string) string {
	c.t.Helper()
	c.ok(cmd)
	var b strings.Builder
	for {
		l := c.line()
		if l == "." {
			return b.String()
		}
		b.WriteString(strings.TrimPrefix(l, ".") + "\r\n")
	}
}

// TestPOP3DeleteShowsInIMAP: POP3 and IMAP on one mailbox stay consistent;
// a POP3 DELE+QUIT reaches a selected IMAP session as EXPUNGE.
func TestPOP3DeleteShowsInIMAP(t *testing.T) {
	srv := startReference(t, "example.org", nil, "bob:pw")
	s := dialSMTP(t, srv.SMTPAddr())
	s.cmd("EHLO client.example", 250)
	for _, subj := range []string{"one", "two", "three"} {
		s.sendMessage("carol@example.net", []string{"bob@example.org"}, "Subject: "+subj+"\r\n\r\nbody\r\n")
	}
	expunged := make(chan uint32, 4)
	ic, err := imapclient.DialInsecure(srv.Addr("imap"), &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Expunge: func(seq uint32) { expunged <- seq },
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	ic.Login("bob", "pw").Wait()
	ic.Select("INBOX", nil).Wait()

	p := dialPOP3(t, srv.Addr("pop3"), "bob", "pw")
	if stat := p.ok("STAT"); !strings.HasPrefix(stat, "+OK 3 ") {
		t.Fatalf("STAT %q", stat)
	}
	p.ok("DELE 2")
	p.ok("QUIT")

	if err := ic.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	select {
	case seq := <-expunged:
		if seq != 2 {
			t.Errorf("IMAP got EXPUNGE %d, want 2", seq)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("IMAP session never saw the POP3 deletion")
	}
	msgs, err := ic.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil || len(msgs) != 2 || msgs[0].Envelope.Subject != "one" || msgs[1].Envelope.Subject != "three" {
		t.Fatalf("IMAP view after POP3 delete: %v %+v", err, msgs)
	}
}

// TestPOP3UIDLStableAcrossRestart: UIDLs are the same in every session and
// after a restart of the server on the same data.
func TestPOP3UIDLStableAcrossRestart(t *testing.T) {
	srv := startReference(t, "example.org", nil, "bob:pw")
	deliverTo(t, srv, "Subject: a\r\n\r\nbody\r\n")
	deliverTo(t, srv, "Subject: b\r\n\r\nbody\r\n")
	p := dialPOP3(t, srv.Addr("pop3"), "bob", "pw")
	before := p.multi("UIDL")
	p.ok("DELE 1")
	p.ok("QUIT")

	dir := srv.cfg.DataDir
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	srv2 := restartReference(t, dir, "example.org", "bob:pw")
	p = dialPOP3(t, srv2.Addr("pop3"), "bob", "pw")
	after := p.multi("UIDL")
	second := strings.SplitN(before, "\r\n", 3)[1]
	if after != "1 "+strings.SplitN(second, " ", 2)[1]+"\r\n" {
		t.Errorf("UIDL before %q, after delete and restart %q", before, after)
	}
}

func TestInteropPythonPoplib(t *testing.T) {
	python := needTool(t, "python3")
	srv := startReference(t, "example.org", nil, "bob:pw")
	deliverTo(t, srv, "Subject: poplib\r\n\r\n.\r\n..\r\n.x\r\n")
	deliverTo(t, srv, "Subject: keep\r\n\r\nkept\r\n")
	host, port, _ := strings.Cut(srv.Addr("pop3"), ":")
	script := writeFile(t, t.TempDir(), "pop.py", `
import poplib, sys
p = poplib.POP3(sys.argv[1], int(sys.argv[2]), timeout=10)
p.user("bob"); p.pass_("pw")
count, size = p.stat()
assert count == 2, count
resp, lines, octets = p.retr(1)
assert lines[-3:] == [b".", b"..", b".x"], lines
assert b"Subject: poplib" in lines
top = p.top(2, 0)[1]
assert top[-1] == b"" and b"Subject: keep" in top, top
p.dele(1)
p.quit()
p = poplib.POP3(sys.argv[1], int(sys.argv[2]), timeout=10)
p.user("bob"); p.pass_("pw")
assert p.stat()[0] == 1
p.quit()
print("ok")
`)
	runPython(t, python, "poplib", script, host, port)
}

func TestInteropCurlPOP3(t *testing.T) {
	curl := needTool(t, "curl")
	srv := startReference(t, "example.org", nil, "bob:pw")
	deliverTo(t, srv, "Subject: curl pop3\r\n\r\n.leading\r\nbody\r\n")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := exec.CommandContext(ctx, curl, "-sS", "--max-time", "20", "--user", "bob:pw", "pop3://"+srv.Addr("pop3")+"/").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(list), "1 ") {
		t.Fatalf("curl pop3 LIST: %v %q", err, list)
	}
	msg, err := exec.CommandContext(ctx, curl, "-sS", "--max-time", "20", "--user", "bob:pw", "pop3://"+srv.Addr("pop3")+"/1").CombinedOutput()
	if err != nil || !strings.HasSuffix(string(msg), "Subject: curl pop3\r\n\r\n.leading\r\nbody\r\n") {
		t.Fatalf("curl pop3 RETR: %v %q", err, msg)
	}
}
