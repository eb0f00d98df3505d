package reference

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestIMAPIdleSeesSMTPDelivery: a message delivered over SMTP reaches a
// session in IDLE as EXISTS.
func TestIMAPIdleSeesSMTPDelivery(t *testing.T) {
	srv := startReference(t, "example.org", nil, "bob:pw")
	exists := make(chan uint32, 4)
	c, err := imapclient.DialInsecure(srv.Addr("imap"), &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("bob", "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	deliverTo(t, srv, "Subject: while idling\r\n\r\nhi\r\n")
	select {
	case n := <-exists:
		if n != 1 {
			t.Errorf("EXISTS %d, want 1", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no EXISTS during IDLE within 5s of the SMTP 250")
	}
	idle.Close()
	idle.Wait()
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil || len(msgs) != 1 || !strings.HasSuffix(string(msgs[0].BodySection[0].Bytes), "Subject: while idling\r\n\r\nhi\r\n") {
		t.Fatalf("fetch after IDLE: %v %+v", err, msgs)
	}
}

func TestInteropPythonImaplib(t *testing.T) {
	python := needTool(t, "python3")
	srv := startReference(t, "example.org", nil, "bob:pw")
	deliverTo(t, srv, "Subject: for imaplib\r\n\r\n.dotted\r\nbody\r\n")
	host, port, _ := strings.Cut(srv.Addr("imap"), ":")
	script := writeFile(t, t.TempDir(), "read.py", `
import imaplib, sys
m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]), timeout=10)
m.login("bob", "pw")
typ, data = m.select("INBOX")
assert typ == "OK" and data[0] == b"1", (typ, data)
typ, data = m.search(None, "SUBJECT", "imaplib")
assert data[0] == b"1", data
typ, data = m.fetch("1", "(BODY.PEEK[TEXT] FLAGS)")
assert data[0][1] == b".dotted\r\nbody\r\n", data
m.store("1", "+FLAGS", "\\Flagged")
m.create("Keep")
m.copy("1", "Keep")
typ, data = m.status("Keep", "(MESSAGES)")
assert b"MESSAGES 1" in data[0], data
m.logout()
print("ok")
`)
	runPython(t, python, "imaplib", script, host, port)
}

func TestInteropCurlIMAP(t *testing.T) {
	curl := needTool(t, "curl")
	srv := startReference(t, "example.org", nil, "bob:pw")
	deliverTo(t, srv, "Subject: for curl\r\n\r\ncurl body\r\n")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, curl, "-sS", "--max-time", "20", "--user", "bob:pw",
		"imap://"+srv.Addr("imap")+"/INBOX;UID=1").CombinedOutput()
	if err != nil || !strings.HasSuffix(string(out), "Subject: for curl\r\n\r\ncurl body\r\n") {
		t.Fatalf("curl imap: %v\n%q", err, out)
	}
}
