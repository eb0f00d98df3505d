package conformance

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/internal/leakcheck"
	"github.com/mailcheck/mailcheck/internal/loopback"
)

// readbackHeapBound is what a run may hold while its read-back server
// floods it: the 200 MiB.
const readbackHeapBound = 200 << 20

// hijacked relays each connection to upstream until the client sends a
// line for which takeOver says true; from then on the relay answers that
// line itself with answer (the real server's messages found, the hostile
// answer given to the fetch of one).
func hijacked(t *testing.T, upstream string, takeOver func(line string) bool, answer func(line string, c net.Conn)) string {
	return loopback.Serve(t, func(c net.Conn) {
		defer c.Close()
		c.SetDeadline(time.Now().Add(hangGuard))
		up, err := net.DialTimeout("tcp", upstream, 5*time.Second)
		if err != nil {
			return
		}
		defer up.Close()
		go io.Copy(c, up)
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if takeOver(line) {
				up.Close() // lock-step: nothing more comes from it
				answer(line, c)
				return
			}
			up.Write([]byte(line))
		}
	})
}

// floodReadback writes lines to c until the client goes away, at most
// floodOctets, then stays silent.
func floodReadback(c net.Conn) {
	chunk := bytes.Repeat([]byte("flood line of a message that never ends\r\n"), 1000)
	for sent := 0; sent < floodOctets; sent += len(chunk) {
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
	c.Read(make([]byte, 1)) // until the client closes, or hangGuard
}

// hugeLiteralIMAP is a read-back IMAP server that finds every message
// searched for and answers its fetch with a literal announced at 2 GB,
// then floods.
func hugeLiteralIMAP(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(hangGuard))
	c.Write([]byte("* OK [CAPABILITY IMAP4rev2] hostile read-back\r\n"))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, cmd, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch cmd = strings.ToUpper(cmd); {
		case strings.HasPrefix(cmd, "CAPABILITY"):
			c.Write([]byte("* CAPABILITY IMAP4rev2\r\n" + tag + " OK done\r\n"))
		case strings.HasPrefix(cmd, "UID SEARCH"):
			c.Write([]byte("* SEARCH 7\r\n" + tag + " OK done\r\n"))
		case strings.HasPrefix(cmd, "UID FETCH"):
			c.Write([]byte("* 1 FETCH (UID 7 BODY[] {2000000000}\r\n"))
			floodReadback(c)
			return
		default:
			c.Write([]byte(tag + " OK done\r\n"))
		}
	}
}

// TestHostileReadbackIsBounded: a read-back mailbox that finds the run's
// message and then announces a 2 GB literal for it (IMAP), or never ends
// its RETR answer (POP3, the real server's maildrop until RETR), ends the
// checks that read back with a clear error, and the run holds far less
// than what the server announced or sent.
func TestHostileReadbackIsBounded(t *testing.T) {
	smtp, pop3, _, opts := embedded(t, nil)
	for _, c := range []struct {
		name     string
		readback func(t *testing.T) Target
	}{
		{"imap 2 GB literal", func(t *testing.T) Target {
			rb, err := engine.ParseTarget("imap://bob:pw@"+loopback.Serve(t, hugeLiteralIMAP), "")
			if err != nil {
				t.Fatal(err)
			}
			return rb
		}},
		{"pop3 endless RETR", func(t *testing.T) Target {
			rb := pop3
			rb.Addr = hijacked(t, pop3.Addr,
				func(l string) bool { return strings.HasPrefix(strings.ToUpper(l), "RETR ") },
				func(l string, c net.Conn) {
					c.Write([]byte("+OK here it comes\r\n"))
					floodReadback(c)
				})
			return rb
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rb := c.readback(t)
			o := opts
			o.Readback = &rb
			o.Only = []string{"smtp.data.transparency"}
			var report *Report
			grown := leakcheck.HeapGrowth(func() { report = runTargets(t, []Target{smtp}, o) })
			r := resultOf(t, report, "smtp.data.transparency")
			if r.Status != Error || !strings.Contains(r.Message, "more than") {
				t.Errorf("%s: %s (%s), want an error naming the bound\n%s", r.ID, r.Status, r.Message, transcriptOf(r))
			}
			if grown > readbackHeapBound {
				t.Errorf("the heap grew %d MiB", grown>>20)
			}
			t.Logf("%s: %s; heap grew %.1f MiB", r.Status, r.Message, float64(grown)/(1<<20))
		})
	}
}
