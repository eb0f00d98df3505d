package readback

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/internal/loopback"
)

// fakeMaildrop serves a POP3 maildrop of n messages, each marked with the
// nonce "m<i>", and counts the TOP commands it answers. sameUIDs gives
// every message one unique-id, as a broken server would.
func fakeMaildrop(t *testing.T, n int, sameUIDs bool, tops *atomic.Int32) engine.Target {
	t.Helper()
	addr := loopback.Serve(t, func(c net.Conn) {
		defer c.Close()
		c.Write([]byte("+OK ready\r\n"))
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			f := strings.Fields(line)
			switch strings.ToUpper(f[0]) {
			case "STAT":
				fmt.Fprintf(c, "+OK %d %d\r\n", n, n*100)
			case "UIDL":
				c.Write([]byte("+OK\r\n"))
				for i := 1; i <= n; i++ {
					uid := fmt.Sprint("u", i)
					if sameUIDs {
						uid = "u"
					}
					fmt.Fprintf(c, "%d %s\r\n", i, uid)
				}
				c.Write([]byte(".\r\n"))
			case "TOP":
				tops.Add(1)
				fmt.Fprintf(c, "+OK\r\nSubject: x\r\nX-Mailcheck-Nonce: m%s\r\n\r\n.\r\n", f[1])
			case "QUIT":
				c.Write([]byte("+OK bye\r\n"))
				return
			default:
				c.Write([]byte("+OK\r\n"))
			}
		}
	})
	target, err := engine.ParseTarget("pop3://bob:pw@"+addr, "")
	if err != nil {
		t.Fatal(err)
	}
	return target
}

// TestPOP3HeadersReadOncePerRun: polling a mailbox reads each header once
// in a run, unless the unique-ids cannot tell the messages apart.
func TestPOP3HeadersReadOncePerRun(t *testing.T) {
	for _, c := range []struct {
		name     string
		sameUIDs bool
		want     int32
	}{{"unique ids", false, 5}, {"one id for all", true, 10}} {
		var tops atomic.Int32
		target := fakeMaildrop(t, 5, c.sameUIDs, &tops)
		opts := engine.Options{State: engine.NewRunState(), ReadTimeout: 2 * time.Second}.WithDefaults()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for range 2 {
			if msg, err := Once(ctx, engine.Detached("test", target, &opts), target, "absent"); msg != nil || err != nil {
				t.Fatalf("%s: Once = %q, %v", c.name, msg, err)
			}
		}
		cancel()
		if tops.Load() != c.want {
			t.Errorf("%s: %d TOP commands for two polls of 5 messages, want %d", c.name, tops.Load(), c.want)
		}
	}
}
