package fetch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/agent/pop3fetch"
)

// Selection picks messages.
type Selection struct {
	// ID picks one message by POP3 number or IMAP UID; "" picks all.
	ID string
	// Match keeps the messages that have every one of these fields.
	Match []Field
}

func (s Selection) String() string {
	var parts []string
	if s.ID != "" {
		parts = append(parts, "message "+s.ID)
	}
	for _, f := range s.Match {
		parts = append(parts, fmt.Sprintf("%s: %s", f.Name, f.Value))
	}
	if len(parts) == 0 {
		return "any message"
	}
	return strings.Join(parts, ", ")
}

// narrower is a mailbox whose server can narrow a listing by header
// fields (IMAP SEARCH HEADER).
type narrower interface{ Narrow([]Field) }

// Find returns the selected messages, oldest first. Headers are read when
// the selection matches on them or withHeaders asks for them (a listing
// shows From, Subject and Date). checked holds the keys of messages known
// not to match, from earlier sessions: their headers are not read again,
// and Find adds the keys of those that do not match now.
func Find(mb Mailbox, sel Selection, withHeaders bool, checked map[string]bool) ([]Message, error) {
	if n, ok := mb.(narrower); ok {
		n.Narrow(sel.Match)
	}
	ms, err := mb.Messages(sel.ID)
	if err != nil {
		return nil, err
	}
	var out []Message
	for _, m := range ms {
		if m.Key != "" && checked[m.Key] {
			continue
		}
		if withHeaders || len(sel.Match) > 0 {
			if err := mb.ReadHeader(&m); err != nil {
				return nil, err
			}
		}
		if !m.Matches(sel.Match) {
			if m.Key != "" && checked != nil {
				checked[m.Key] = true
			}
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// WaitTimeoutError is Wait's error when nothing selected arrived in time.
type WaitTimeoutError struct {
	Selection Selection
	Within    time.Duration
	Polls     int
}

func (e *WaitTimeoutError) Error() string {
	return fmt.Sprintf("no message matching %s arrived within %v (%d polls)", e.Selection, e.Within, e.Polls)
}

// Polling intervals of Wait: from the first to the longest, doubling.
const (
	firstPoll = 100 * time.Millisecond
	maxPoll   = 2 * time.Second
)

// Wait polls the mailbox, one session per poll, until a selected message
// is there or within has passed, with intervals doubling from 100ms to 2s
// (bounded, so a message is seen at most 2s after it arrives). It returns
// the mailbox, still open, with the selected messages. waiting, when not
// nil, is called once, after the first poll found nothing. A POP3
// maildrop locked by another session ([IN-USE]) counts as a poll that
// found nothing; any other failure ends the wait.
func Wait(ctx context.Context, o Options, sel Selection, within time.Duration, waiting func()) (Mailbox, []Message, error) {
	deadline := time.Now().Add(within)
	interval := firstPoll
	checked := map[string]bool{}
	for polls := 1; ; polls++ {
		mb, err := Open(ctx, o)
		switch {
		case errors.Is(err, pop3fetch.ErrInUse):
			o.Transcript.Note("the maildrop is in use; polling again")
		case err != nil:
			return nil, nil, err
		default:
			found, err := Find(mb, sel, false, checked)
			if err != nil {
				mb.Abort()
				return nil, nil, err
			}
			if len(found) > 0 {
				return mb, found, nil
			}
			if err := mb.Close(); err != nil {
				return nil, nil, err
			}
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return nil, nil, &WaitTimeoutError{Selection: sel, Within: within, Polls: polls}
		}
		if polls == 1 && waiting != nil {
			waiting()
		}
		t := time.NewTimer(min(interval, remaining))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		case <-t.C:
		}
		interval = min(2*interval, maxPoll)
	}
}
