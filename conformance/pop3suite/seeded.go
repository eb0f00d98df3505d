package pop3suite

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/seed"
)

// Test messages: sent through the seed server, found by their nonce, and
// deleted when the check ends.

// seeded sends test messages with the given bodies and waits until all are
// in the maildrop; it returns their nonces. Seeding is the SMTP side's
// work: any failure there, or a message that never arrives, is an unmet
// precondition of the POP3 check.
func seeded(ctx context.Context, t *engine.T, bodies ...string) []string {
	var nonces []string
	var msgs [][]byte
	for _, b := range bodies {
		n := seed.Nonce()
		nonces = append(nonces, n)
		msgs = append(msgs, seed.Message(t, n, "mailcheck pop3 check", b))
	}
	if err := seed.Send(ctx, t, msgs...); err != nil {
		if errors.Is(err, seed.ErrNoSeed) {
			t.SkipNow("needs test messages: --seed smtp://… and --rcpt")
		}
		t.Require(ctx.Err())
		t.Precondition("sending the test messages failed: %v", err)
	}
	deadline := time.Now().Add(t.Options.ReadbackTimeout)
	// Each look is a login session, which locks an mbox maildrop (RFC
	// 1939 §8) against the very delivery awaited: the looks back off, as
	// the read-back's do (100 ms doubling up to 2 s).
	delay := 100 * time.Millisecond
	for {
		s := login(ctx, t)
		nums, err := s.find(nonces)
		s.cmd("QUIT")
		s.c.Close()
		t.Require(err)
		if !contains(nums, 0) {
			return nonces
		}
		if time.Now().After(deadline) {
			cleanup(ctx, t, nonces)
			t.Precondition("the test messages did not arrive in the maildrop within %v", t.Options.ReadbackTimeout)
		}
		select {
		case <-ctx.Done():
			t.Require(ctx.Err())
		case <-time.After(min(delay, max(time.Until(deadline), 0))):
		}
		delay = min(2*delay, 2*time.Second)
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
// messages are. It reads headers with TOP (RFC 1939 §7, optional): without
// it the check's precondition is unmet.
func (s *session) find(nonces []string) ([]int, error) {
	r, err := s.status("STAT")
	if err != nil {
		return nil, err
	}
	n, _, ok := dropListing(r.line)
	if !ok {
		return nil, engine.Unmet("STAT answered %q, not \"+OK n size\" (see pop3.stat.syntax)", r.line)
	}
	nums := make([]int, len(nonces))
	left := len(nonces)
	for i := n; i >= 1 && left > 0; i-- {
		top := "TOP " + strconv.Itoa(i) + " 0"
		r, err := s.status(top)
		if err != nil {
			return nil, err
		}
		if !r.ok {
			return nil, engine.Unmet("%s refused: %q: the suite finds its test messages by their header, with TOP", top, r.line)
		}
		head, _, err := s.multi()
		if errors.Is(err, errUnterminated) {
			return nil, engine.Unmet("%s: %v (see pop3.multiline.terminated)", top, err)
		}
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
// own; messages of others are never touched. It never ends the check: it
// runs deferred, after the verdict.
func cleanup(ctx context.Context, t *engine.T, nonces []string) {
	if len(nonces) == 0 {
		return
	}
	// The check's own sessions would hold the maildrop lock.
	t.CloseConns()
	s, err := tryLogin(ctx, t)
	if err != nil {
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

// loginFind logs in and locates the check's messages; one gone missing
// since it arrived is an unmet precondition.
func loginFind(ctx context.Context, t *engine.T, nonces []string) (*session, []int) {
	s := login(ctx, t)
	nums, err := s.find(nonces)
	t.Require(err)
	if contains(nums, 0) {
		t.Precondition("a test message that had arrived is gone from the maildrop")
	}
	return s, nums
}

// seededSession seeds messages with the bodies, logs in and finds them;
// the caller defers cleanup of the nonces. Should the check end before it
// returns, the messages are deleted here.
func seededSession(ctx context.Context, t *engine.T, bodies ...string) (s *session, nums []int, nonces []string) {
	nonces = seeded(ctx, t, bodies...)
	found := false
	defer func() {
		if !found {
			cleanup(ctx, t, nonces)
		}
	}()
	s, nums = loginFind(ctx, t, nonces)
	found = true
	return s, nums, nonces
}
