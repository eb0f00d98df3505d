package reference

import (
	"net"
	"strings"
	"testing"
	"time"
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
