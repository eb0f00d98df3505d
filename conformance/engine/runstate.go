package engine

import (
	"slices"
	"sync"
)

// RunState is what the checks of one run share: facts established once for
// the whole run (Memo) and the ledger of the messages they sent (Sent), by
// which the run deletes its traces at the end. Options.State carries it;
// conformance.RunTargets makes one per run. A nil *RunState is usable:
// Memo then computes every time and the ledger records nothing.
type RunState struct {
	mu    sync.Mutex
	memos map[string]*memo
	sent  []*SentMessage
	index map[string]*SentMessage
}

// NewRunState returns an empty RunState.
func NewRunState() *RunState {
	return &RunState{memos: map[string]*memo{}, index: map[string]*SentMessage{}}
}

// memo is one fact of the run: computed by the first check that needs it
// while the others wait.
type memo struct {
	mu    sync.Mutex
	done  bool
	value any
}

// Memo returns the value of the fact named key, computing it with compute
// the first time. A computation that returns an error is not kept: the
// error goes to that caller alone, and the next caller computes again (a
// check cut short by its own timeout must not decide for the others).
func (r *RunState) Memo(key string, compute func() (any, error)) (any, error) {
	if r == nil {
		return compute()
	}
	r.mu.Lock()
	m := r.memos[key]
	if m == nil {
		m = &memo{}
		r.memos[key] = m
	}
	r.mu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done {
		return m.value, nil
	}
	v, err := compute()
	if err != nil {
		return nil, err
	}
	m.value, m.done = v, true
	return v, nil
}

// SentMessage is a message a check sent, found again by its nonce (the
// X-Mailcheck-Nonce header field).
type SentMessage struct {
	Nonce string `json:"nonce"`
	// Check is the ID of the check that sent it.
	Check string `json:"check"`
	// Via is the SMTP server it was sent through.
	Via string `json:"via"`
	// To are its recipients.
	To []string `json:"to"`
	// Deleted is set once a read-back deleted it.
	Deleted bool `json:"-"`
}

// Sent records that the running check sent a message marked with nonce
// through via to the recipients to.
func (t *T) Sent(nonce string, via Target, to ...string) {
	t.Options.State.sentBy(t.check.ID, nonce, via, to)
}

func (r *RunState) sentBy(check, nonce string, via Target, to []string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.index[nonce]; m != nil {
		for _, rcpt := range to {
			if !slices.Contains(m.To, rcpt) {
				m.To = append(m.To, rcpt)
			}
		}
		return
	}
	m := &SentMessage{Nonce: nonce, Check: check, Via: via.String(), To: slices.Clone(to)}
	r.sent = append(r.sent, m)
	r.index[nonce] = m
}

// Deleted records that the message marked with nonce was deleted.
func (r *RunState) Deleted(nonce string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.index[nonce]; m != nil {
		m.Deleted = true
	}
}

// Undeleted returns copies of the messages sent in the run and not
// deleted, in the order they were sent.
func (r *RunState) Undeleted() []SentMessage {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []SentMessage
	for _, m := range r.sent {
		if !m.Deleted {
			c := *m
			c.To = slices.Clone(m.To)
			out = append(out, c)
		}
	}
	return out
}
