package reference

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/smtpwire"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// BenchmarkDurableAcceptance measures how many 1 KiB messages a second the
// reference server accepts, each fsync'd before its 250, from concurrent
// persistent sessions (EHLO once, then MAIL/RCPT/DATA per message, no
// pipelining: what Postfix's smtp-source -d does).
//
//	go test -run '^$' -bench BenchmarkDurableAcceptance -benchtime 5000x ./reference/
func BenchmarkDurableAcceptance(b *testing.B) {
	for _, sessions := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("sessions=%d", sessions), func(b *testing.B) {
			srv := startReference(b, "example.org", nil, "bob:pw")
			body := "Subject: bench\r\n\r\n" + strings.Repeat(strings.Repeat("x", 62)+"\r\n", 16)
			body = body[:1022] + "\r\n"
			b.SetBytes(int64(len(body)))
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for s := 0; s < sessions; s++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := benchSession(srv.SMTPAddr(), body, &next, int64(b.N)); err != nil {
						b.Error(err)
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

func benchSession(addr, body string, next *atomic.Int64, total int64) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	expect := func(code int) error {
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		reply, err := smtpreply.ReadReply(r, false, nil)
		if err != nil {
			return err
		}
		if reply.Code != code {
			return fmt.Errorf("got %s, want %d", reply, code)
		}
		return nil
	}
	cmd := func(line string, code int) error {
		if _, err := conn.Write([]byte(line)); err != nil {
			return err
		}
		return expect(code)
	}
	if err := expect(220); err != nil {
		return err
	}
	if err := cmd("EHLO bench.example\r\n", 250); err != nil {
		return err
	}
	data := smtpwire.AppendDotStuffed(nil, []byte(body))
	for next.Add(1) <= total {
		if err := cmd("MAIL FROM:<load@example.com>\r\n", 250); err != nil {
			return err
		}
		if err := cmd("RCPT TO:<bob@example.org>\r\n", 250); err != nil {
			return err
		}
		if err := cmd("DATA\r\n", 354); err != nil {
			return err
		}
		if _, err := conn.Write(data); err != nil {
			return err
		}
		if err := expect(250); err != nil {
			return err
		}
	}
	return cmd("QUIT\r\n", 221)
}
