package pop3server

import "sync"

// maildropLocks holds the exclusive-access lock on each maildrop
// (RFC 1939 §8: "the POP3 server then acquires an exclusive-access lock on
// the maildrop"), keyed by the canonical user name. The lock lives in this
// process: it serialises POP3 sessions of one Server, not other protocols,
// which is why Maildrop.Open may fail for a message removed meanwhile.
type maildropLocks struct {
	mu   sync.Mutex
	held map[string]struct{}
}

// tryLock takes user's lock and reports whether it was free.
func (l *maildropLocks) tryLock(user string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, busy := l.held[user]; busy {
		return false
	}
	if l.held == nil {
		l.held = make(map[string]struct{})
	}
	l.held[user] = struct{}{}
	return true
}

// unlock releases user's lock, taken by tryLock.
func (l *maildropLocks) unlock(user string) {
	l.mu.Lock()
	delete(l.held, user)
	l.mu.Unlock()
}
