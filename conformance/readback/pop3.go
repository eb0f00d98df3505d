package readback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/seed"
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

// scanWindow bounds how many of the newest messages a read-back looks at:
// test messages are among the latest, and a large mailbox must not be
// read whole on every poll (nor past Options.MaxReceive).
const scanWindow = 200

// takePOP3 is take over POP3: it looks at the messages' headers (TOP n
// 0), newest first since test messages are the latest, and marks the
// messages found for deletion, which QUIT carries out (RFC 1939 §6). A
// header read once is not read again in the run: the nonce it carries is
// remembered by the message's unique-id (UIDL, where offered).
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
	uids, err := s.uidl()
	if err != nil {
		return nil, nil, err
	}
	cache := headersOf(t, target)
	got := map[string][]byte{}
	marked := map[string]bool{}
	for i := count; i >= max(1, count-scanWindow+1); i-- {
		n, err := s.nonceAt(i, uids[i], cache)
		if err != nil {
			return got, nil, err
		}
		if n == "" || !slices.Contains(nonces, n) {
			continue
		}
		if !fetch && got[n] == nil {
			got[n] = []byte{}
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

// nonceAt returns the nonce message i carries ("" for none, or when it is
// gone meanwhile, expunged over IMAP say), from the cache when its
// unique-id uid is known there.
func (s pop3Session) nonceAt(i int, uid string, cache *headerCache) (string, error) {
	if n, ok := cache.lookup(uid); ok {
		return n, nil
	}
	if _, err := s.ok("TOP " + strconv.Itoa(i) + " 0"); err != nil {
		var refused *engine.PreconditionError
		if !errors.As(err, &refused) {
			return "", err
		}
		// A message gone meanwhile is refused; one still listed is
		// there, and the server does not take TOP (optional, RFC 1939
		// §7): without it no message can be found by its header, which
		// is no proof that it did not arrive.
		if _, lerr := s.ok("LIST " + strconv.Itoa(i)); lerr != nil {
			if errors.As(lerr, &refused) {
				return "", nil
			}
			return "", lerr
		}
		return "", err
	}
	head, err := s.multi()
	if err != nil {
		return "", err
	}
	n := seed.NonceOf(head)
	cache.remember(uid, n)
	return n, nil
}

// uidl returns the unique-ids by message number (RFC 1939 §7); none when
// the server does not offer UIDL.
func (s pop3Session) uidl() (map[int]string, error) {
	uids := map[int]string{}
	if _, err := s.ok("UIDL"); err != nil {
		var refused *engine.PreconditionError
		if errors.As(err, &refused) {
			return uids, nil
		}
		return nil, err
	}
	listing, err := s.multi()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(listing), "\r\n") {
		var n int
		var uid string
		if _, err := fmt.Sscanf(line, "%d %s", &n, &uid); err == nil {
			if seen[uid] {
				// Not unique (a broken server, RFC 1939 §7): no message
				// can be known by it.
				return map[int]string{}, nil
			}
			seen[uid] = true
			uids[n] = uid
		}
	}
	return uids, nil
}

// headerCache remembers, for one mailbox and run, the nonce each message
// carries ("" for none) by its unique-id.
type headerCache struct {
	mu    sync.Mutex
	nonce map[string]string
}

// headersOf returns the run's cache for target's mailbox.
func headersOf(t *engine.T, target engine.Target) *headerCache {
	v, _ := t.Options.State.Memo("readback.pop3.headers "+target.String()+" "+target.User, func() (any, error) {
		return &headerCache{nonce: map[string]string{}}, nil
	})
	return v.(*headerCache)
}

func (c *headerCache) lookup(uid string) (string, bool) {
	if uid == "" {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nonce[uid]
	return n, ok
}

func (c *headerCache) remember(uid, n string) {
	if uid == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nonce[uid] = n
}
