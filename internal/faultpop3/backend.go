package faultpop3

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mailcheck/mailcheck/reference/pop3server"
)

// logins is what the backend wrappers of one server record for its
// sessions.
type logins struct {
	mu sync.Mutex
	// refused holds name and password of each login the backend let in
	// though the server's accounts refused it.
	refused map[[2]string]bool
	// canonical maps a name given to USER to its user.
	canonical map[string]string
	// open holds each user's maildrop while a session has it open.
	open map[string]pop3server.Maildrop
	// aliases maps each login's name of its own to its user.
	aliases map[string]string
}

// wasRefused reports whether the backend let name in with a password the
// accounts refused.
func (l *logins) wasRefused(name, password string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refused[[2]string{name, password}]
}

// acceptingBackend lets a wrong password in, the user being the name as
// given, as a server that checks no password does.
type acceptingBackend struct {
	pop3server.Backend
	logins *logins
}

func (b acceptingBackend) Authenticate(ctx context.Context, username, password string) (string, error) {
	user, err := b.Backend.Authenticate(ctx, username, password)
	if !errors.Is(err, pop3server.ErrAuthFailed) {
		return user, err
	}
	b.logins.mu.Lock()
	defer b.logins.mu.Unlock()
	if b.logins.refused == nil {
		b.logins.refused = map[[2]string]bool{}
	}
	b.logins.refused[[2]string{username, password}] = true
	return username, nil
}

// aliasingBackend gives each login a user name of its own for one
// maildrop, so the server's exclusive-access lock, which it takes per
// user (RFC 1939 §8), never sees two sessions on one maildrop.
type aliasingBackend struct {
	pop3server.Backend
	logins *logins
}

func (b aliasingBackend) Authenticate(ctx context.Context, username, password string) (string, error) {
	user, err := b.Backend.Authenticate(ctx, username, password)
	if err != nil {
		return user, err
	}
	b.logins.mu.Lock()
	defer b.logins.mu.Unlock()
	if b.logins.aliases == nil {
		b.logins.aliases = map[string]string{}
	}
	alias := fmt.Sprintf("%s (login %d)", user, len(b.logins.aliases)+1)
	b.logins.aliases[alias] = user
	return alias, nil
}

func (b aliasingBackend) OpenMaildrop(ctx context.Context, alias string) (pop3server.Maildrop, error) {
	b.logins.mu.Lock()
	user, ok := b.logins.aliases[alias]
	b.logins.mu.Unlock()
	if !ok {
		user = alias
	}
	return b.Backend.OpenMaildrop(ctx, user)
}

// trackingBackend records who logged in as whom and which maildrop each
// user has open, so the proxy can reach the maildrop of a session.
type trackingBackend struct {
	pop3server.Backend
	logins *logins
}

func (b trackingBackend) Authenticate(ctx context.Context, username, password string) (string, error) {
	user, err := b.Backend.Authenticate(ctx, username, password)
	if err == nil {
		b.logins.mu.Lock()
		if b.logins.canonical == nil {
			b.logins.canonical = map[string]string{}
		}
		b.logins.canonical[username] = user
		b.logins.mu.Unlock()
	}
	return user, err
}

func (b trackingBackend) OpenMaildrop(ctx context.Context, user string) (pop3server.Maildrop, error) {
	d, err := b.Backend.OpenMaildrop(ctx, user)
	if err != nil {
		return nil, err
	}
	b.logins.mu.Lock()
	defer b.logins.mu.Unlock()
	if b.logins.open == nil {
		b.logins.open = map[string]pop3server.Maildrop{}
	}
	b.logins.open[user] = d
	return trackedMaildrop{Maildrop: d, user: user, logins: b.logins}, nil
}

// trackedMaildrop leaves the record of open maildrops when it closes.
type trackedMaildrop struct {
	pop3server.Maildrop
	user   string
	logins *logins
}

func (d trackedMaildrop) Close() error {
	d.logins.mu.Lock()
	if d.logins.open[d.user] == d.Maildrop {
		delete(d.logins.open, d.user)
	}
	d.logins.mu.Unlock()
	return d.Maildrop.Close()
}

// deleteNow removes message n (numbered as in the session, from 1) from
// the maildrop open for the user name logged in as, at once.
func (l *logins) deleteNow(name string, n int) error {
	l.mu.Lock()
	d := l.open[l.canonical[name]]
	l.mu.Unlock()
	if d == nil {
		return errors.New("no maildrop open for " + name)
	}
	msgs := d.Messages()
	if n < 1 || n > len(msgs) {
		return errors.New("no such message")
	}
	return d.Delete([]string{msgs[n-1].UID})
}
