package smtptest

import (
	"net"
	"sync"
)

// listener serves each connection of a loopback listener in its own
// goroutine and, on close, drops the open connections and waits for their
// goroutines: the life cycle Server and RawServer share.
type listener struct {
	ln net.Listener

	mu       sync.Mutex
	closed   bool
	accepted int
	open     map[net.Conn]bool
	wg       sync.WaitGroup
}

// start accepts connections until close, serving each with serve (the
// connection is closed when serve returns).
func (l *listener) start(ln net.Listener, serve func(net.Conn)) {
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

// addr is the listener's address, host:port.
func (l *listener) addr() string { return l.ln.Addr().String() }

// close stops the listener, drops the open connections and waits for
// their goroutines; calling it more than once is fine.
func (l *listener) close() {
	l.mu.Lock()
	l.closed = true
	l.ln.Close()
	for c := range l.open {
		c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
}

// conns is the number of connections accepted so far.
func (l *listener) conns() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accepted
}
