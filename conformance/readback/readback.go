// Package readback finds test messages in a mailbox over POP3 or IMAP, by
// the nonce in their X-Mailcheck-Nonce header field, and deletes them
// there: only them, since the suites never delete mail they did not put
// there. Before a check blames an SMTP server on what the mailbox returns,
// Verify proves the read-back path with a plain control message (once per
// run), and Compare judges a message read back against the one sent.
package readback

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// mu serializes read-backs within a process: a POP3 maildrop admits one
// session at a time (RFC 1939 §8), and parallel checks share the mailbox.
var mu sync.Mutex

// Polling backs off: the first look comes soon after the SMTP 250 (a
// local delivery is usually done by then), later ones ever more rarely, so
// that a mailbox locked by each read-back session (an mbox under POP3,
// RFC 1939 §8) is free most of the time for the delivery being waited for.
const (
	firstPoll = 100 * time.Millisecond
	maxPoll   = 2 * time.Second
)

// Wait waits for the message carrying nonce n to arrive in target's mailbox
// and returns it, as the mailbox stores it, having deleted it there. A
// message that does not arrive within Options.ReadbackTimeout fails the
// check (nil, nil).
func Wait(ctx context.Context, t *engine.T, target engine.Target, n string) ([]byte, error) {
	msg, err := Poll(ctx, t, target, n)
	if err == nil && msg == nil {
		t.Fail("the message (nonce %s) did not arrive in %s within %v", n, target, t.Options.ReadbackTimeout)
	}
	return msg, err
}

// Poll is Wait without the verdict: nil, nil when the message did not
// arrive within Options.ReadbackTimeout.
func Poll(ctx context.Context, t *engine.T, target engine.Target, n string) ([]byte, error) {
	deadline := time.Now().Add(t.Options.ReadbackTimeout)
	delay := firstPoll
	for {
		msg, err := Once(ctx, t, target, n)
		if err != nil || msg != nil {
			return msg, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(delay, left)):
		}
		delay = min(2*delay, maxPoll)
	}
}

// Once looks for the message carrying nonce n once: nil when it is not
// there (yet). A message found is deleted (and recorded so in the run's
// ledger).
func Once(ctx context.Context, t *engine.T, target engine.Target, n string) ([]byte, error) {
	got, _, err := take(ctx, t, target, []string{n}, true)
	if err != nil {
		return nil, err
	}
	return got[n], nil
}

// Sweep deletes from target's mailbox every message carrying one of the
// nonces, in one session. It returns the nonces of the messages it found
// and could not delete (an IMAP server without UIDPLUS, a refused DELE);
// a nonce not found names a message already deleted, never delivered, or
// not delivered yet.
func Sweep(ctx context.Context, t *engine.T, target engine.Target, nonces []string) (kept []string, err error) {
	found, deleted, err := take(ctx, t, target, nonces, false)
	for _, n := range nonces {
		if _, ok := found[n]; ok && !slices.Contains(deleted, n) {
			kept = append(kept, n)
		}
	}
	return kept, err
}

// take finds the messages carrying the nonces in one session (got: nonce
// → message, fetched when fetch is set, empty otherwise), and deletes them
// (deleted: the nonces of the messages it deleted, all copies of each).
func take(ctx context.Context, t *engine.T, target engine.Target, nonces []string, fetch bool) (got map[string][]byte, deleted []string, err error) {
	mu.Lock()
	defer mu.Unlock()
	switch target.Protocol {
	case "pop3":
		got, deleted, err = takePOP3(ctx, t, target, nonces, fetch)
	case "imap":
		got, deleted, err = takeIMAP(ctx, t, target, nonces, fetch)
	default:
		return nil, nil, fmt.Errorf("read-back over %s is not supported", target.Protocol)
	}
	for _, n := range deleted {
		t.Options.State.Deleted(n)
	}
	return got, deleted, err
}
