package pop3server

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/reference/certs"
)

func selfSigned(t testing.TB) *tls.Config {
	t.Helper()
	cfg, err := certs.SelfSigned("pop.example.org")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func dialErr(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return c, err
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func debugLogger(b *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
