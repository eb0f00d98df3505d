package faultimap

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/reference"
)

// startWith starts the loopback reference server with w installed and
// returns its IMAP address.
func startWith(t *testing.T, w *Wrapper) string {
	t.Helper()
	srv, _, err := reference.StartLoopback(func(c *reference.Config) {
		w.Install(&c.IMAP)
		c.IMAP.InsecureAuth = true
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		os.RemoveAll(srv.DataDir())
	})
	return srv.Addr("imap")
}

// imapClient is a logged-in IMAP session read line by line, each read
// under a deadline.
type imapClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	n    int
}

func loginTo(t *testing.T, addr string) *imapClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &imapClient{t: t, conn: conn, r: bufio.NewReader(conn)}
	c.line() // greeting
	c.do("LOGIN " + reference.LoopbackUser + " " + reference.LoopbackPassword)
	return c
}

func (c *imapClient) line() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// do runs a command that must succeed and returns its untagged responses.
func (c *imapClient) do(command string) []string {
	c.t.Helper()
	c.n++
	tag := fmt.Sprintf("t%d", c.n)
	if _, err := fmt.Fprintf(c.conn, "%s %s\r\n", tag, command); err != nil {
		c.t.Fatal(err)
	}
	var untagged []string
	for {
		l := c.line()
		if rest, ok := strings.CutPrefix(l, tag+" "); ok {
			if !strings.HasPrefix(rest, "OK") {
				c.t.Fatalf("%s: %s", command, l)
			}
			return untagged
		}
		untagged = append(untagged, l)
	}
}

// appendMsg appends a message to mailbox (LITERAL+, RFC 7888).
func (c *imapClient) appendMsg(mailbox, subject string) {
	c.t.Helper()
	msg := "Subject: " + subject + "\r\n\r\nbody\r\n"
	c.do(fmt.Sprintf("APPEND %s {%d+}\r\n%s", mailbox, len(msg), msg))
}

// TestSeqNumsFixedAtSelectStillTellsNewMail: the fault keeps the numbers
// an expunge by another session would shift, and nothing else: mail that
// arrives after such an expunge is still announced by EXISTS, and found
// within the count announced (imap.mailbox.new-mail-exists is not its
// subject). On go-imap's tracker the held expunge held back every update
// queued behind it, so the fault failed that check whenever another
// check expunged in INBOX while it ran.
func TestSeqNumsFixedAtSelectStillTellsNewMail(t *testing.T) {
	addr := startWith(t, SeqNumsFixedAtSelect)
	a, b := loginTo(t, addr), loginTo(t, addr)
	b.do("CREATE box")
	b.appendMsg("box", "one")
	b.appendMsg("box", "two")
	a.do("EXAMINE box")
	b.do("SELECT box")
	b.do(`STORE 1 +FLAGS.SILENT (\Deleted)`)
	b.do("EXPUNGE")
	b.appendMsg("box", "three")
	got := a.do("NOOP")
	if slices.ContainsFunc(got, func(l string) bool { return strings.HasSuffix(l, " EXPUNGE") }) {
		t.Errorf("NOOP told the fault's session of another's expunge: %q", got)
	}
	if !slices.Contains(got, "* 3 EXISTS") {
		t.Fatalf("NOOP after new mail: %q, want \"* 3 EXISTS\" (the expunged message keeps its number)", got)
	}
	if found := a.do("SEARCH SUBJECT three"); !slices.Equal(found, []string{"* SEARCH 3"}) {
		t.Errorf("SEARCH for the new message: %q, want message 3", found)
	}
}
