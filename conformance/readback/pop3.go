package readback

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/seed"
	"github.com/mailcheck/mailcheck/pop3/pop3client"
)

// pop3Session is a read-back session with a POP3 maildrop (RFC 1939),
// read within the check's bounds (engine.Options.Bounds).
type pop3Session struct {
	target engine.Target
	c      *pop3client.Client
}

// unmet makes the read-back server's refusal (-ERR) or a malformed
// answer a precondition: they are the read-back server's, not the
// subject's of the check. Only the verb is quoted (PASS carries the
// password). A failed read stays what it is.
func (s pop3Session) unmet(verb string, err error) error {
	var refused *pop3client.RefusedError
	switch {
	case errors.As(err, &refused):
		return engine.Unmet("the read-back mailbox %s refused %s: %q", s.target, verb, refused.Status.Line)
	case errors.Is(err, pop3client.ErrMalformed):
		return engine.Unmet("the read-back mailbox %s answered %s: %v", s.target, verb, err)
	case err != nil:
		return fmt.Errorf("read-back POP3 %s: %w", verb, err)
	}
	return nil
}

// ok sends cmd and requires +OK.
func (s pop3Session) ok(cmd string) error {
	verb, _, _ := strings.Cut(cmd, " ")
	_, err := s.c.OK(cmd)
	return s.unmet(verb, err)
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
	s := pop3Session{target, pop3client.New(c, t.Options.Bounds())}
	if st, err := s.c.Greeting(); err != nil || !st.OK {
		if err == nil {
			err = &pop3client.RefusedError{Command: "the session (greeting)", Status: st}
		}
		return nil, nil, s.unmet("the session (greeting)", err)
	}
	if err := s.c.Login(target.User, target.Password); err != nil {
		var refused *pop3client.RefusedError
		switch {
		case !errors.As(err, &refused):
			return nil, nil, s.unmet("USER/PASS", err)
		case refused.InUse():
			return nil, nil, nil // another session has the maildrop: try again
		}
		return nil, nil, s.unmet(refused.Command, err)
	}
	count, _, err := s.c.Stat()
	if err != nil {
		return nil, nil, s.unmet("STAT", err)
	}
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
			if got[n], err = s.c.Retr(i); err != nil {
				return got, nil, s.unmet("RETR", err)
			}
		}
		if s.c.Dele(i) == nil {
			marked[n] = true
		}
	}
	if s.c.Quit() != nil {
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
	head, err := s.c.Top(i, 0)
	if err != nil {
		if !pop3client.Refused(err) {
			return "", s.unmet("TOP", err)
		}
		err = s.unmet("TOP", err)
		var refused *engine.PreconditionError
		// A message gone meanwhile is refused; one still listed is
		// there, and the server does not take TOP (optional, RFC 1939
		// §7): without it no message can be found by its header, which
		// is no proof that it did not arrive.
		if lerr := s.ok("LIST " + strconv.Itoa(i)); lerr != nil {
			if errors.As(lerr, &refused) {
				return "", nil
			}
			return "", lerr
		}
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
	listing, err := s.c.UIDL()
	switch {
	case pop3client.Refused(err):
		return uids, nil
	case err != nil:
		return nil, s.unmet("UIDL", err)
	}
	seen := map[string]bool{}
	for _, l := range listing {
		if seen[l.UID] {
			// Not unique (a broken server, RFC 1939 §7): no message can
			// be known by it.
			return map[int]string{}, nil
		}
		seen[l.UID] = true
		uids[l.Num] = l.UID
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
