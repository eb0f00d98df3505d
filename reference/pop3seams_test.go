package reference

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/reference/pop3server"
)

// TestPOP3ListenerAndWrappedBackend: a server given a POP3 listener
// serves POP3 on it, and a backend wrapper decides what its sessions see
// (here it hides every message of the maildrop).
func TestPOP3ListenerAndWrappedBackend(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := startReferenceConfigured(t, "example.org", func(c *Config) {
		c.POP3Addr = ""
		c.POP3Listener = l
		c.WrapPOP3Backend = func(b pop3server.Backend) pop3server.Backend { return hidingBackend{b} }
	}, "bob:secret")
	if got := srv.Addr("pop3"); got != l.Addr().String() {
		t.Fatalf("POP3 on %q, want the listener given, %q", got, l.Addr())
	}
	deliverTo(t, srv, "Subject: hidden\r\n\r\nbody\r\n")
	waitFor(t, 5*time.Second, "the delivery", func() bool { return len(mailbox(t, srv.Store(), "bob")) == 1 })
	c := dialPOP3(t, l.Addr().String(), "bob", "secret")
	if got := c.ok("STAT"); got != "+OK 0 0" {
		t.Errorf("STAT through the wrapper: %q, want the message hidden", got)
	}
}

// hidingBackend opens maildrops that list no message.
type hidingBackend struct{ pop3server.Backend }

func (b hidingBackend) OpenMaildrop(ctx context.Context, user string) (pop3server.Maildrop, error) {
	d, err := b.Backend.OpenMaildrop(ctx, user)
	if err != nil {
		return nil, err
	}
	return emptyMaildrop{d}, nil
}

type emptyMaildrop struct{ pop3server.Maildrop }

func (emptyMaildrop) Messages() []pop3server.MessageInfo { return nil }
