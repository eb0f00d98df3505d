package load

import (
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRawConnErrorsReadAsTCPConns: rawConn reports errors as net.TCPConn
// does, word for word (they are the examples of the error classes in a
// run's result): a read past its deadline, and a read after the peer
// closed.
func TestRawConnErrorsReadAsTCPConns(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for range 2 {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() (net.Conn, net.Conn) {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-accepted:
			return c, s
		case <-time.After(5 * time.Second):
			t.Fatal("no connection accepted")
		}
		return nil, nil
	}
	plain, plainPeer := dial()
	defer plain.Close()
	defer plainPeer.Close()
	rawTCP, rawPeer := dial()
	raw := newRawConn(rawTCP)
	defer raw.Close()
	defer rawPeer.Close()
	if _, ok := raw.(*rawConn); !ok {
		t.Skip("no raw connection on this platform")
	}

	readErr := func(c net.Conn) error {
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, err := c.Read(make([]byte, 16))
		return err
	}
	// The local addresses differ: compare with each connection's own.
	same := func(what string, want, got error, wantConn, gotConn net.Conn) {
		t.Helper()
		w := strings.ReplaceAll(want.Error(), wantConn.LocalAddr().String(), "LOCAL")
		g := strings.ReplaceAll(got.Error(), gotConn.LocalAddr().String(), "LOCAL")
		if w != g {
			t.Errorf("%s: rawConn says %q, net.TCPConn %q", what, g, w)
		}
	}
	wantTimeout, gotTimeout := readErr(plain), readErr(raw)
	if !errors.Is(gotTimeout, os.ErrDeadlineExceeded) {
		t.Errorf("rawConn timeout %v is not os.ErrDeadlineExceeded", gotTimeout)
	}
	var ne net.Error
	if !errors.As(gotTimeout, &ne) || !ne.Timeout() {
		t.Errorf("rawConn timeout %v is not a net.Error timeout", gotTimeout)
	}
	same("timeout", wantTimeout, gotTimeout, plain, raw)

	raw.Close()
	plain.Close()
	_, wantClosed := plain.Read(make([]byte, 16))
	_, gotClosed := raw.Read(make([]byte, 16))
	if !errors.Is(gotClosed, net.ErrClosed) {
		t.Errorf("rawConn read after close %v is not net.ErrClosed", gotClosed)
	}
	same("closed", wantClosed, gotClosed, plain, raw)
}
