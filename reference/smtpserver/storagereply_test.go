package smtpserver

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestStorageFailureReplies: a Deliver that fails for lack of space gives
// 452 4.3.1, any other storage failure 451 4.3.0, however deeply wrapped;
// the session goes on, and once storage works again the same session's
// next message gets 250 and is delivered once.
func TestStorageFailureReplies(t *testing.T) {
	pathErr := func(errno syscall.Errno) error {
		return &os.PathError{Op: "write", Path: "/data/mail/bob/tmp/x", Err: errno}
	}
	for _, tc := range []struct {
		name     string
		err      error
		code     int
		enhanced string
	}{
		{"ENOSPC", pathErr(syscall.ENOSPC), 452, "4.3.1"},
		{"EDQUOT", pathErr(syscall.EDQUOT), 452, "4.3.1"},
		{"ENOSPC wrapped and joined", fmt.Errorf("local delivery: %w", errors.Join(pathErr(syscall.ENOSPC), errors.New("rollback"))), 452, "4.3.1"},
		{"EIO", fmt.Errorf("queue: %w", pathErr(syscall.EIO)), 451, "4.3.0"},
		{"EROFS", pathErr(syscall.EROFS), 451, "4.3.0"},
		{"EACCES", pathErr(syscall.EACCES), 451, "4.3.0"},
		{"not a system error", errors.New("something else"), 451, "4.3.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, be, addr := startServer(t, Options{})
			be.mu.Lock()
			be.fail = tc.err
			be.mu.Unlock()
			c := ehlod(t, addr)
			r := c.send("a@example.com", "bob@example.org", "refused\r\n.\r\n")
			if r.Code != tc.code || r.Enhanced != tc.enhanced {
				t.Fatalf("got %s, want %d %s", r, tc.code, tc.enhanced)
			}
			// The transaction is over: RCPT needs a new MAIL.
			c.cmd("RCPT TO:<bob@example.org>", 503)
			c.cmd("RSET", 250)
			be.mu.Lock()
			be.fail = nil
			be.mu.Unlock()
			if r := c.send("a@example.com", "bob@example.org", "accepted\r\n.\r\n"); r.Code != 250 {
				t.Fatalf("after storage recovered: %s", r)
			}
			msgs := be.messages()
			if len(msgs) != 1 || !strings.HasSuffix(msgs[0].data, "accepted\r\n") {
				t.Errorf("delivered %d messages: %+v", len(msgs), msgs)
			}
		})
	}
}
