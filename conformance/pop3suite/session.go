package pop3suite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/seed"
)

// session is one POP3 connection of a check.
type session struct {
	t        *engine.T
	c        *engine.Conn
	greeting string
}

// dial connects and reads the greeting. A greeting -ERR [SYS/TEMP] or
// [IN-USE] is a busy server: the runner tries the check again later.
func dial(ctx context.Context, t *engine.T) (*session, error) {
	c, err := t.Dial(ctx)
	if err != nil {
		return nil, err
	}
	g, err := c.ReadLine()
	if err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if engine.BusyPOP3(trim(g)) {
		return nil, engine.Busy("greeting %q", trim(g))
	}
	return &session{t: t, c: c, greeting: trim(g)}, nil
}

func trim(b []byte) string { return strings.TrimRight(string(b), "\r\n") }

// cmd sends a command and returns the status line.
func (s *session) cmd(line string) (string, error) {
	if err := s.c.Send(line); err != nil {
		return "", err
	}
	l, err := s.c.ReadLine()
	return trim(l), err
}

func positive(status string) bool { return strings.HasPrefix(status, "+OK") }
func negative(status string) bool { return strings.HasPrefix(status, "-ERR") }

// errUnterminated is a multi-line response that never ended.
var errUnterminated = errors.New("multi-line response without its terminating \".\" line")

// multi reads a multi-line body up to the "." line, undoing byte-stuffing
// (RFC 1939 §3); lines keep their CRLF. raw is what came on the wire.
func (s *session) multi() (body, raw []byte, err error) {
	for {
		l, err := s.c.ReadLine()
		if err != nil {
			if errors.Is(err, engine.ErrTimeout) {
				return body, raw, errUnterminated
			}
			return body, raw, err
		}
		raw = append(raw, l...)
		if string(l) == ".\r\n" {
			return body, raw, nil
		}
		body = append(body, bytes.TrimPrefix(l, []byte("."))...)
	}
}

// want sends a command and fails the check unless the status is positive
// (ok) or negative (!ok).
func (s *session) want(line string, ok bool, why string) (string, bool, error) {
	st, err := s.cmd(line)
	if err != nil {
		return st, false, err
	}
	if positive(st) != ok || !positive(st) && !negative(st) {
		want := "-ERR"
		if ok {
			want = "+OK"
		}
		s.t.Fail("%s: %q got %q, want %s", why, line, st, want)
		return st, false, nil
	}
	return st, true, nil
}

// credentials returns the login of the target URL; a check without one
// skips.
func credentials(t *engine.T) (string, string, bool) {
	if t.Target.User == "" {
		t.Skip("needs a login: pop3://user:password@host:port")
		return "", "", false
	}
	return t.Target.User, t.Target.Password, true
}

// login is dial plus USER/PASS, entering TRANSACTION. It retries while
// another session holds the maildrop ([IN-USE]) or the server fails for a
// while ([SYS/TEMP]); past the read-back timeout the server is busy.
func login(ctx context.Context, t *engine.T) (*session, error) {
	user, pass, ok := credentials(t)
	if !ok {
		return nil, nil
	}
	deadline := time.Now().Add(t.Options.ReadbackTimeout)
	for {
		s, err := dial(ctx, t)
		if err != nil {
			return nil, err
		}
		st, err := s.cmd("USER " + user)
		switch {
		case err != nil:
			return nil, fmt.Errorf("USER: %w", err)
		case !positive(st):
			return nil, fmt.Errorf("USER refused: %q", st)
		}
		st, err = s.cmd("PASS " + pass)
		if err != nil {
			return nil, err
		}
		if positive(st) {
			return s, nil
		}
		s.c.Close()
		switch {
		case !strings.Contains(st, "IN-USE") && !engine.BusyPOP3(st):
			return nil, fmt.Errorf("login refused: %q", st)
		case time.Now().After(deadline):
			return nil, engine.Busy("login refused: %q", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stat returns STAT's count and octets.
func (s *session) stat() (int, int64, error) {
	st, err := s.cmd("STAT")
	if err != nil {
		return 0, 0, err
	}
	var n int
	var size int64
	if _, err := fmt.Sscanf(st, "+OK %d %d", &n, &size); err != nil {
		return 0, 0, fmt.Errorf("STAT: %q", st)
	}
	return n, size, nil
}

// seeded sends test messages with the given bodies and waits until all are
// in the maildrop; it returns their nonces. Without a seed server the check
// skips (nonces nil).
func seeded(ctx context.Context, t *engine.T, bodies ...string) ([]string, error) {
	var nonces []string
	var msgs [][]byte
	for _, b := range bodies {
		n := seed.Nonce()
		nonces = append(nonces, n)
		msgs = append(msgs, seed.Message(t, n, "mailcheck pop3 check", b))
	}
	if err := seed.Send(ctx, t, msgs...); err != nil {
		if errors.Is(err, seed.ErrNoSeed) {
			t.Skip("needs test messages: --seed smtp://… and --rcpt")
			return nil, nil
		}
		return nil, err
	}
	deadline := time.Now().Add(t.Options.ReadbackTimeout)
	for {
		s, err := login(ctx, t)
		if s == nil || err != nil {
			return nil, err
		}
		nums, err := s.find(nonces)
		s.cmd("QUIT")
		s.c.Close()
		if err != nil {
			return nil, err
		}
		if !contains(nums, 0) {
			return nonces, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("seeded messages did not arrive within %v", t.Options.ReadbackTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func contains(nums []int, n int) bool {
	for _, x := range nums {
		if x == n {
			return true
		}
	}
	return false
}

// find returns the message numbers of the messages carrying the nonces in
// this session (0 for one not found), newest first as that is where test
// messages are.
func (s *session) find(nonces []string) ([]int, error) {
	n, _, err := s.stat()
	if err != nil {
		return nil, err
	}
	nums := make([]int, len(nonces))
	left := len(nonces)
	for i := n; i >= 1 && left > 0; i-- {
		st, err := s.cmd("TOP " + strconv.Itoa(i) + " 0")
		if err != nil {
			return nil, err
		}
		if !positive(st) {
			continue
		}
		head, _, err := s.multi()
		if err != nil {
			return nil, err
		}
		for k, nonce := range nonces {
			if nums[k] == 0 && bytes.Contains(head, []byte("X-Mailcheck-Nonce: "+nonce+"\r\n")) {
				nums[k] = i
				left--
			}
		}
	}
	return nums, nil
}

// cleanup deletes the check's own messages (by nonce) in a session of its
// own; messages of others are never touched.
func cleanup(ctx context.Context, t *engine.T, nonces []string) {
	if len(nonces) == 0 {
		return
	}
	// The check's own sessions would hold the maildrop lock.
	t.CloseConns()
	s, err := login(ctx, t)
	if s == nil || err != nil {
		return
	}
	defer s.c.Close()
	nums, err := s.find(nonces)
	if err != nil {
		return
	}
	for _, n := range nums {
		if n > 0 {
			s.cmd("DELE " + strconv.Itoa(n))
		}
	}
	s.cmd("QUIT")
}

// loginFind logs in and locates the check's messages; it fails the check if
// any is missing.
func loginFind(ctx context.Context, t *engine.T, nonces []string) (*session, []int, error) {
	s, err := login(ctx, t)
	if s == nil || err != nil {
		return nil, nil, err
	}
	nums, err := s.find(nonces)
	if err != nil {
		return nil, nil, err
	}
	if contains(nums, 0) {
		return nil, nil, errors.New("a seeded message is missing from the maildrop")
	}
	return s, nums, nil
}

// seededSession seeds messages with the bodies, logs in and finds them. s
// is nil when the check was skipped; the caller cleans up the nonces.
func seededSession(ctx context.Context, t *engine.T, bodies ...string) (s *session, nums []int, nonces []string, err error) {
	nonces, err = seeded(ctx, t, bodies...)
	if nonces == nil || err != nil {
		return nil, nil, nil, err
	}
	s, nums, err = loginFind(ctx, t, nonces)
	if err != nil {
		cleanup(ctx, t, nonces)
		return nil, nil, nil, err
	}
	return s, nums, nonces, nil
}

// capa returns the CAPA listing (upper-cased keywords → parameters), or nil
// when CAPA is not supported.
func (s *session) capa() (map[string]string, error) {
	st, err := s.cmd("CAPA")
	if err != nil || !positive(st) {
		return nil, err
	}
	body, _, err := s.multi()
	if err != nil {
		return nil, err
	}
	caps := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(body)), "\r\n") {
		kw, params, _ := strings.Cut(l, " ")
		caps[strings.ToUpper(kw)] = params
	}
	return caps, nil
}
