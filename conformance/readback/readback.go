// Package readback finds a test message in a mailbox over POP3 or IMAP, by
// the nonce in its X-Mailcheck-Nonce header, and deletes it there: only it,
// since the suites never delete mail they did not put there.
package readback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// mu serializes read-backs within a run: a POP3 maildrop admits one
// session at a time (RFC 1939 §8), and parallel checks share the mailbox.
var mu sync.Mutex

// Wait waits for the message carrying nonce n to arrive in target's mailbox
// and returns it, as the mailbox stores it, having deleted it there. A
// message that does not arrive within Options.ReadbackTimeout fails the
// check (nil, nil).
func Wait(ctx context.Context, t *engine.T, target engine.Target, n string) ([]byte, error) {
	deadline := time.Now().Add(t.Options.ReadbackTimeout)
	for {
		msg, err := Once(ctx, t, target, n)
		if err != nil || msg != nil {
			return msg, err
		}
		if time.Now().After(deadline) {
			t.Fail("the message (nonce %s) did not arrive in %s within %v", n, target, t.Options.ReadbackTimeout)
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Once looks for the message carrying nonce n once: nil when it is not
// there (yet).
func Once(ctx context.Context, t *engine.T, target engine.Target, n string) ([]byte, error) {
	mu.Lock()
	defer mu.Unlock()
	switch target.Protocol {
	case "pop3":
		return readBackPOP3(ctx, t, target, n)
	case "imap":
		return readBackIMAP(ctx, t, target, n)
	}
	return nil, fmt.Errorf("read-back over %s is not supported", target.Protocol)
}

func readBackPOP3(ctx context.Context, t *engine.T, target engine.Target, n string) ([]byte, error) {
	c, err := t.DialTarget(ctx, target)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ok := func(cmd string) (string, error) {
		if cmd != "" {
			if err := c.Send(cmd); err != nil {
				return "", err
			}
		}
		l, err := c.ReadLine()
		if err != nil {
			return "", err
		}
		line := strings.TrimRight(string(l), "\r\n")
		if !strings.HasPrefix(line, "+OK") {
			return line, fmt.Errorf("read-back POP3: %q", line)
		}
		return line, nil
	}
	multi := func() ([]byte, error) {
		var b bytes.Buffer
		for {
			l, err := c.ReadLine()
			if err != nil {
				return nil, err
			}
			if string(l) == ".\r\n" {
				return b.Bytes(), nil
			}
			b.Write(bytes.TrimPrefix(l, []byte(".")))
		}
	}
	if _, err := ok(""); err != nil {
		return nil, err
	}
	if _, err := ok("USER " + target.User); err != nil {
		return nil, err
	}
	if line, err := ok("PASS " + target.Password); err != nil {
		if strings.Contains(line, "[IN-USE]") {
			return nil, nil // another session has the maildrop: try again
		}
		return nil, err
	}
	stat, err := ok("STAT")
	if err != nil {
		return nil, err
	}
	var count int
	fmt.Sscanf(stat, "+OK %d", &count)
	marker := []byte("X-Mailcheck-Nonce: " + n + "\r\n")
	// Newest first: the test message is most likely the last one.
	for i := count; i >= 1; i-- {
		if _, err := ok("TOP " + strconv.Itoa(i) + " 0"); err != nil {
			return nil, err
		}
		head, err := multi()
		if err != nil {
			return nil, err
		}
		if !bytes.Contains(head, marker) {
			continue
		}
		if _, err := ok("RETR " + strconv.Itoa(i)); err != nil {
			return nil, err
		}
		msg, err := multi()
		if err != nil {
			return nil, err
		}
		ok("DELE " + strconv.Itoa(i))
		ok("QUIT")
		return msg, nil
	}
	ok("QUIT")
	return nil, nil
}

var literalRE = regexp.MustCompile(`\{(\d+)\}\r\n$`)

func readBackIMAP(ctx context.Context, t *engine.T, target engine.Target, n string) ([]byte, error) {
	c, err := t.DialTarget(ctx, target)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	// cmd sends a tagged command and returns the untagged lines, with a
	// literal's content appended to the line that announced it.
	seq := 0
	cmd := func(line string) ([]string, error) {
		seq++
		tag := "m" + strconv.Itoa(seq)
		if err := c.Send(tag + " " + line); err != nil {
			return nil, err
		}
		var out []string
		for {
			l, err := c.ReadLine()
			if err != nil {
				return nil, err
			}
			if m := literalRE.FindSubmatch(l); m != nil {
				size, _ := strconv.Atoi(string(m[1]))
				lit := make([]byte, 0, size)
				for len(lit) < size {
					more, err := c.ReadLine()
					if err != nil {
						return nil, err
					}
					lit = append(lit, more...)
				}
				out = append(out, string(l)+string(lit[:size]))
				continue
			}
			s := string(l)
			if strings.HasPrefix(s, tag+" ") {
				if !strings.HasPrefix(s, tag+" OK") {
					return out, fmt.Errorf("read-back IMAP: %s: %s", line, strings.TrimSpace(s))
				}
				return out, nil
			}
			out = append(out, s)
		}
	}
	if _, err := c.ReadLine(); err != nil {
		return nil, err
	}
	caps, _ := cmd("CAPABILITY")
	if strings.Contains(strings.Join(caps, " "), "STARTTLS") && !c.TLS() {
		// Credentials go out only under TLS when TLS is offered.
		if _, err := cmd("STARTTLS"); err != nil {
			return nil, err
		}
		if err := c.StartTLS(); err != nil {
			return nil, err
		}
	}
	if _, err := cmd("LOGIN " + quote(target.User) + " " + quote(target.Password)); err != nil {
		return nil, err
	}
	caps, _ = cmd("CAPABILITY")
	if _, err := cmd("SELECT INBOX"); err != nil {
		return nil, err
	}
	found, err := cmd("UID SEARCH HEADER X-Mailcheck-Nonce " + n)
	if err != nil {
		return nil, err
	}
	var uid string
	for _, l := range found {
		if f := strings.Fields(l); len(f) > 2 && f[1] == "SEARCH" {
			uid = f[2]
		}
	}
	if uid == "" {
		cmd("LOGOUT")
		return nil, nil
	}
	lines, err := cmd("UID FETCH " + uid + " BODY.PEEK[]")
	if err != nil {
		return nil, err
	}
	var msg []byte
	for _, l := range lines {
		if _, after, ok := strings.Cut(l, "}\r\n"); ok {
			msg = []byte(after)
		}
	}
	if msg == nil {
		return nil, errors.New("read-back IMAP: FETCH returned no literal")
	}
	// Delete only this message, which needs UID EXPUNGE (RFC 4315): plain
	// EXPUNGE would also remove messages others marked \Deleted.
	if strings.Contains(strings.Join(caps, " "), "UIDPLUS") || strings.Contains(strings.Join(caps, " "), "IMAP4rev2") {
		cmd("UID STORE " + uid + " +FLAGS.SILENT (\\Deleted)")
		cmd("UID EXPUNGE " + uid)
	}
	cmd("LOGOUT")
	return msg, nil
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
