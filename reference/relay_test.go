package reference

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// The whole path of a message: alice submits to server A with AUTH, A queues
// it and relays it to server B over SMTP, and bob's mailbox on B holds it.

const relayBody = "From: alice@example.org\r\n" +
	"To: bob@example.net\r\n" +
	"Subject: relayed\r\n" +
	"\r\n" +
	".\r\n" +
	"..\r\n" +
	".x\r\n" +
	"last line\r\n"

func TestRelayEndToEnd(t *testing.T) {
	b := startReference(t, "example.net", nil, "bob:pw")
	a := startReference(t, "example.org", map[string]string{"example.net": b.SMTPAddr()}, "alice:secret")

	c := dialSMTP(t, a.SMTPAddr())
	c.cmd("EHLO client.example", 250)
	c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==", 235)
	c.sendMessage("alice@example.org", []string{"bob@example.net"}, relayBody)
	c.sendMessage("alice@example.org", []string{"bob@example.net"}, "Subject: second\r\n\r\nbody\r\n")
	c.cmd("QUIT", 221)

	waitFor(t, 10*time.Second, "both messages in bob's mailbox on B", func() bool {
		return len(mailbox(t, b.Store(), "bob")) == 2
	})
	got := mailbox(t, b.Store(), "bob")[0]
	if !strings.HasSuffix(got, "\r\n"+relayBody) {
		t.Errorf("message not byte-exact after the trace headers:\n%q", got)
	}
	header, _, _ := strings.Cut(got, "\r\nFrom: alice@example.org")
	if n := strings.Count(header, "Received: "); n != 2 {
		t.Errorf("%d Received headers, want 2 (A's and B's):\n%s", n, header)
	}
	if !strings.HasPrefix(got, "Received: from mx.example.org") || !strings.Contains(header, "by mx.example.org (mailcheck) with ESMTPA") {
		t.Errorf("trace headers:\n%s", header)
	}
	waitFor(t, 5*time.Second, "A's queue to drain", func() bool { return a.Queue().Len() == 0 })
}

func TestRelayRetriesUntilDestinationIsUp(t *testing.T) {
	// Reserve a port for B and leave it closed for now.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bAddr := l.Addr().String()
	l.Close()

	a := startReference(t, "example.org", map[string]string{"example.net": bAddr}, "alice:secret")
	c := dialSMTP(t, a.SMTPAddr())
	c.cmd("EHLO client.example", 250)
	c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==", 235)
	c.sendMessage("alice@example.org", []string{"bob@example.net"}, relayBody)

	waitFor(t, 5*time.Second, "a failed delivery attempt", func() bool {
		e := a.Queue().Entries()
		return len(e) == 1 && e[0].Attempts >= 1
	})
	l, err = net.Listen("tcp", bAddr)
	if err != nil {
		t.Skipf("port %s was taken meanwhile: %v", bAddr, err)
	}
	b := startReferenceOn(t, l, "example.net", "bob:pw")
	waitFor(t, 10*time.Second, "delivery once B is up", func() bool {
		return len(mailbox(t, b.Store(), "bob")) == 1
	})
	if got := mailbox(t, b.Store(), "bob"); !strings.HasSuffix(got[0], "\r\n"+relayBody) {
		t.Errorf("relayed message:\n%q", got[0])
	}
	waitFor(t, 5*time.Second, "A's queue to drain", func() bool { return a.Queue().Len() == 0 })
	if n := len(mailbox(t, b.Store(), "bob")); n != 1 {
		t.Errorf("bob has %d copies", n)
	}
}

func TestRelayPermanentFailureBounces(t *testing.T) {
	b := startReference(t, "example.net", nil, "bob:pw")
	a := startReference(t, "example.org", map[string]string{"example.net": b.SMTPAddr()}, "alice:secret")
	c := dialSMTP(t, a.SMTPAddr())
	c.cmd("EHLO client.example", 250)
	c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==", 235)
	// B has no user "nobody": it answers 550 5.1.1 to the relay's RCPT.
	c.sendMessage("alice@example.org", []string{"nobody@example.net"}, "Subject: doomed\r\n\r\nbody\r\n")

	waitFor(t, 10*time.Second, "a bounce in alice's mailbox", func() bool {
		return len(mailbox(t, a.Store(), "alice")) == 1
	})
	bounce := mailbox(t, a.Store(), "alice")[0]
	for _, want := range []string{"nobody@example.net", "550", "5.1.1", "multipart/report", "Subject: doomed"} {
		if !strings.Contains(bounce, want) {
			t.Errorf("bounce lacks %q:\n%s", want, bounce)
		}
	}
	waitFor(t, 5*time.Second, "A's queue to drain", func() bool { return a.Queue().Len() == 0 })
}

// TestWholePath: alice submits two messages to server A, A relays them to
// server B, and bob reads one over POP3 (download-and-delete) and the other
// over IMAP. Each arrives byte for byte as alice sent it, below the two
// trace headers.
func TestWholePath(t *testing.T) {
	b := startReference(t, "example.net", nil, "bob:pw")
	a := startReference(t, "example.org", map[string]string{"example.net": b.SMTPAddr()}, "alice:secret")
	first := "Subject: by POP3\r\n\r\n.\r\n..\r\n.x\r\nend\r\n"
	second := "Subject: by IMAP\r\n\r\n..two\r\n.\r\nend\r\n"

	c := dialSMTP(t, a.SMTPAddr())
	c.cmd("EHLO client.example", 250)
	c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==", 235)
	c.sendMessage("alice@example.org", []string{"bob@example.net"}, first)
	c.sendMessage("alice@example.org", []string{"bob@example.net"}, second)
	waitFor(t, 10*time.Second, "both messages on B", func() bool { return len(mailbox(t, b.Store(), "bob")) == 2 })

	p := dialPOP3(t, b.Addr("pop3"), "bob", "pw")
	got := p.multi("RETR 1")
	p.ok("DELE 1")
	p.ok("QUIT")
	checkDelivered(t, "POP3", got, first)

	ic, err := imapclient.DialInsecure(b.Addr("imap"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	ic.Login("bob", "pw").Wait()
	sel, err := ic.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 1 {
		t.Fatalf("after POP3 download-and-delete, IMAP sees %+v, %v", sel, err)
	}
	msgs, err := ic.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("IMAP fetch: %v", err)
	}
	checkDelivered(t, "IMAP", string(msgs[0].BodySection[0].Bytes), second)
}

// checkDelivered checks that got is want under exactly two Received headers
// (B's first, then A's).
func checkDelivered(t *testing.T, via, got, want string) {
	t.Helper()
	if !strings.HasSuffix(got, "\r\n"+want) {
		t.Errorf("%s: message altered:\n%q\nwant suffix\n%q", via, got, want)
		return
	}
	trace := strings.TrimSuffix(got, want)
	if n := strings.Count(trace, "Received: "); n != 2 || !strings.HasPrefix(trace, "Received: from mx.example.org") ||
		!strings.Contains(trace, "by mx.example.net (mailcheck)") || !strings.Contains(trace, "by mx.example.org (mailcheck) with ESMTPA") {
		t.Errorf("%s: trace headers:\n%s", via, trace)
	}
	for _, line := range strings.Split(strings.TrimSuffix(trace, "\r\n"), "\r\n") {
		if !strings.HasPrefix(line, "Received: ") && !strings.HasPrefix(line, "\t") {
			t.Errorf("%s: unexpected header line above the message: %q", via, line)
		}
	}
}
