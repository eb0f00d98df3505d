package readback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// pop3Session is a read-back session with a POP3 maildrop (RFC 1939).
type pop3Session struct {
	target engine.Target
	c      *engine.Conn
}

// ok sends cmd (none for the greeting) and reads a +OK status line.
func (s pop3Session) ok(cmd string) (string, error) {
	if cmd != "" {
		if err := s.c.Send(cmd); err != nil {
			return "", err
		}
	}
	l, err := s.c.ReadLine()
	if err != nil {
		return "", err
	}
	line := strings.TrimRight(string(l), "\r\n")
	if !strings.HasPrefix(line, "+OK") {
		// A refusal is the read-back server's, not the subject's of the
		// check: a precondition. Only the verb is quoted (PASS carries
		// the password).
		verb, _, _ := strings.Cut(cmd, " ")
		if cmd == "" {
			verb = "the session (greeting)"
		}
		return line, engine.Unmet("the read-back mailbox %s refused %s: %q", s.target, verb, line)
	}
	return line, nil
}

// multi reads a multi-line response, undoing the byte-stuffing (RFC 1939
// §3).
func (s pop3Session) multi() ([]byte, error) {
	var b bytes.Buffer
	for {
		l, err := s.c.ReadLine()
		if err != nil {
			return nil, err
		}
		if string(l) == ".\r\n" {
			return b.Bytes(), nil
		}
		b.Write(bytes.TrimPrefix(l, []byte(".")))
	}
}

// takePOP3 is take over POP3: it looks at every message's header (TOP n
// 0), newest first since test messages are the latest, and marks the
// messages found for deletion, which QUIT carries out (RFC 1939 §6).
func takePOP3(ctx context.Context, t *engine.T, target engine.Target, nonces []string, fetch bool) (map[string][]byte, []string, error) {
	c, err := t.DialTarget(ctx, target)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	s := pop3Session{target, c}
	if _, err := s.ok(""); err != nil {
		return nil, nil, err
	}
	if _, err := s.ok("USER " + target.User); err != nil {
		return nil, nil, err
	}
	if line, err := s.ok("PASS " + target.Password); err != nil {
		if strings.Contains(line, "[IN-USE]") {
			return nil, nil, nil // another session has the maildrop: try again
		}
		return nil, nil, err
	}
	stat, err := s.ok("STAT")
	if err != nil {
		return nil, nil, err
	}
	var count int
	fmt.Sscanf(stat, "+OK %d", &count)
	got := map[string][]byte{}
	marked := map[string]bool{}
	for i := count; i >= 1; i-- {
		if _, err := s.ok("TOP " + strconv.Itoa(i) + " 0"); err != nil {
			var refused *engine.PreconditionError
			if errors.As(err, &refused) {
				continue // gone meanwhile (expunged over IMAP, say)
			}
			return got, nil, err
		}
		head, err := s.multi()
		if err != nil {
			return got, nil, err
		}
		n := nonceOf(head, nonces)
		if n == "" {
			continue
		}
		if fetch && got[n] == nil {
			if _, err := s.ok("RETR " + strconv.Itoa(i)); err != nil {
				return got, nil, err
			}
			if got[n], err = s.multi(); err != nil {
				return got, nil, err
			}
		}
		if _, err := s.ok("DELE " + strconv.Itoa(i)); err == nil {
			marked[n] = true
		}
	}
	if _, err := s.ok("QUIT"); err != nil {
		return got, nil, nil // the deletions did not happen; the content stands
	}
	var deleted []string
	for n := range marked {
		deleted = append(deleted, n)
	}
	return got, deleted, nil
}
