package main

import (
	"fmt"
	"maps"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/smtptest"
)

// crashRemote is the remote server the crash tests relay to: a scripted
// fake (smtptest) that counts the crash-test messages it accepts. While it
// is down it answers the greeting with 421 and the final dot with 451, both
// temporary (RFC 5321 §3.8, §4.2.1), so queued mail stays queued and is
// retried. Being up or down is switched by the test. Every acceptance
// happens under one lock, so the test can hold the remote still while it
// takes a census (held).
type crashRemote struct {
	srv *smtptest.Server

	conns *connTracker

	mu        sync.Mutex
	accepting bool
	received  map[int]int // crash-test sequence number → transactions accepted
	damaged   []string    // why an incomplete message was refused
}

func startCrashRemote(t *testing.T) *crashRemote {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &crashRemote{received: make(map[int]int), conns: &connTracker{Listener: ln, open: make(map[net.Conn]bool)}}
	r.srv = smtptest.Start(t, smtptest.Config{
		Extensions: []string{"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"},
		Reply:      r.reply,
		Listener:   r.conns,
	})
	return r
}

// awaitIdle waits until every connection open now has closed: the
// sessions of a killed sender end when the fake reads their EOF, and
// until then one may still be about to hand in a final dot.
func (r *crashRemote) awaitIdle(limit time.Duration) error {
	return r.conns.awaitClosed(limit)
}

func (r *crashRemote) reply(verb, arg string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch verb {
	case "GREETING":
		if !r.accepting {
			return "421 4.3.2 remote down for the crash test"
		}
	case ".":
		if !r.accepting {
			return "451 4.3.2 remote went down for the crash test"
		}
		seq, err := checkCrashMessage([]byte(arg))
		if err != nil {
			r.damaged = append(r.damaged, err.Error())
			return "554 5.6.0 damaged crash-test message"
		}
		r.received[seq]++
	}
	return ""
}

// setAccepting brings the remote up or down. Once it has returned with up
// false, no further message is counted.
func (r *crashRemote) setAccepting(up bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.accepting = up
}

// counts returns how many times each message was accepted, and the
// damaged messages refused.
func (r *crashRemote) counts() (map[int]int, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.received), append([]string(nil), r.damaged...)
}

// held runs f with the counts while no message can be accepted: a
// sender's final dot waits for f to return.
func (r *crashRemote) held(f func(received map[int]int, damaged []string)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(maps.Clone(r.received), append([]string(nil), r.damaged...))
}

// total is the number of messages accepted so far.
func (r *crashRemote) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.received {
		n += c
	}
	return n
}

// connTracker is a listener that knows which of its connections are open.
type connTracker struct {
	net.Listener
	mu   sync.Mutex
	open map[net.Conn]bool
}

func (l *connTracker) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &trackedConn{Conn: conn, tracker: l}
	l.mu.Lock()
	l.open[c] = true
	l.mu.Unlock()
	return c, nil
}

// awaitClosed waits until the connections open when it is called have
// all closed.
func (l *connTracker) awaitClosed(limit time.Duration) error {
	l.mu.Lock()
	waiting := maps.Clone(l.open)
	l.mu.Unlock()
	deadline := time.Now().Add(limit)
	for {
		l.mu.Lock()
		for c := range waiting {
			if !l.open[c] {
				delete(waiting, c)
			}
		}
		l.mu.Unlock()
		if len(waiting) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d connections to the remote still open after %v", len(waiting), limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type trackedConn struct {
	net.Conn
	tracker *connTracker
}

func (c *trackedConn) Close() error {
	c.tracker.mu.Lock()
	delete(c.tracker.open, c)
	c.tracker.mu.Unlock()
	return c.Conn.Close()
}
