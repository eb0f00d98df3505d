// Package loopback serves test connections on 127.0.0.1: a listener that
// runs a handler per connection and, when closed, drops the open
// connections and waits for the handlers. The fake and scripted servers
// of the tests share it instead of each writing its accept loop.
package loopback

import (
	"net"
	"sync"
	"testing"
)

// Listener serves each connection of a listener in its own goroutine and,
// on Close, drops the open connections and waits for their goroutines.
type Listener struct {
	ln net.Listener

	mu       sync.Mutex
	closed   bool
	accepted int
	open     map[net.Conn]bool
	wg       sync.WaitGroup
}

// Start accepts connections until Close, serving each with serve (the
// connection is closed when serve returns).
func (l *Listener) Start(ln net.Listener, serve func(net.Conn)) {
	l.ln, l.open = ln, map[net.Conn]bool{}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			conn, err := l.ln.Accept()
			if err != nil {
				return
			}
			l.mu.Lock()
			if l.closed {
				l.mu.Unlock()
				conn.Close()
				return
			}
			l.accepted++
			l.open[conn] = true
			l.wg.Add(1)
			l.mu.Unlock()
			go func() {
				defer l.wg.Done()
				serve(conn)
				conn.Close()
				l.mu.Lock()
				delete(l.open, conn)
				l.mu.Unlock()
			}()
		}
	}()
}

// Addr is the listener's address, host:port.
func (l *Listener) Addr() string { return l.ln.Addr().String() }

// Close stops the listener, drops the open connections and waits for
// their goroutines; calling it more than once is fine.
func (l *Listener) Close() {
	l.mu.Lock()
	l.closed = true
	l.ln.Close()
	for c := range l.open {
		c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
}

// Accepted is the number of connections accepted so far.
func (l *Listener) Accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accepted
}

// Serve listens on 127.0.0.1:0 and serves each connection with handle
// until the test ends, then closes everything and waits for the handlers;
// it returns the address.
func Serve(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &Listener{}
	l.Start(ln, handle)
	t.Cleanup(l.Close)
	return l.Addr()
}
