package smtpclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/mailcheck/mailcheck/bounds"
)

// netLink is the Link over a net.Conn: every read and write bounded by the
// timeout, all reads by the policy's Total, the context of Watch
// interrupting the waits.
type netLink struct {
	conn    net.Conn // the TCP connection or TLS over it
	r       *bufio.Reader
	counter *totalReader
	timeout time.Duration
	tls     *tls.Config
	isTLS   bool
	// mu orders deadline updates against a watched context's end, so a
	// cancelled wait cannot re-arm a future deadline; stopped is that end.
	mu      sync.Mutex
	stopped error
}

// attach makes conn the connection read and written, with a fresh reader
// of size line.
func (l *netLink) attach(conn net.Conn, line int) {
	l.conn = conn
	l.counter.r = conn
	l.r = bufio.NewReaderSize(l.counter, line)
}

// arm sets the deadline of the next wait, unless the watched context
// ended.
func (l *netLink) arm() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped != nil {
		return l.stopped
	}
	return l.conn.SetDeadline(time.Now().Add(l.timeout))
}

func (l *netLink) Write(b []byte) error {
	if err := l.arm(); err != nil {
		return err
	}
	_, err := l.conn.Write(b)
	return l.explain(err)
}

func (l *netLink) ReadWith(read func(r *bufio.Reader) error) error {
	if err := l.arm(); err != nil {
		return err
	}
	return l.explain(read(l.r))
}

// explain names a wait cut short by the watched context.
func (l *netLink) explain(err error) error {
	if err == nil {
		return nil
	}
	l.mu.Lock()
	stopped := l.stopped
	l.mu.Unlock()
	if stopped != nil {
		return fmt.Errorf("%w (%w)", stopped, err)
	}
	return err
}

func (l *netLink) StartTLS() error {
	if err := l.arm(); err != nil {
		return err
	}
	tc := tls.Client(l.conn, l.tls)
	if err := l.explain(tc.Handshake()); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	l.attach(tc, l.r.Size())
	l.isTLS = true
	return nil
}

func (l *netLink) TLS() bool    { return l.isTLS }
func (l *netLink) Close() error { return l.conn.Close() }

// watch makes ctx's end interrupt the waits until stop is called.
func (l *netLink) watch(ctx context.Context) (stop func()) {
	stopWatching := context.AfterFunc(ctx, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.stopped = ctx.Err()
		l.conn.SetDeadline(time.Unix(1, 0))
	})
	return func() { stopWatching() }
}

// Watch makes the end of ctx interrupt the client's waits (a read or
// write then fails with ctx's error) until the returned stop is called. It
// works on a connection the client made or wraps; a Link of the caller's
// handles its own context.
func (c *Client) Watch(ctx context.Context) (stop func()) {
	if l, ok := c.link.(*netLink); ok {
		return l.watch(ctx)
	}
	return func() {}
}

// totalReader counts the octets read from a connection against the
// policy's Total.
type totalReader struct {
	r           io.Reader
	left, limit int64
}

func (t *totalReader) Read(p []byte) (int, error) {
	if t.left <= 0 {
		return 0, &bounds.ExceededError{What: "connection's data", Limit: t.limit}
	}
	if int64(len(p)) > t.left {
		p = p[:t.left]
	}
	n, err := t.r.Read(p)
	t.left -= int64(n)
	return n, err
}
