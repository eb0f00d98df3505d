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

// TestRawConnWritesEveryOctet: writeBuffers with more vectors than writev
// takes at once (IOV_MAX, 1024) and more octets than the socket buffer
// holds (partial writes, EAGAIN, a vector cut in the middle), and Write of
// a large buffer, deliver every octet once and in order.
func TestRawConnWritesEveryOctet(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	nc, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	c, ok := newRawConn(nc).(*rawConn)
	if !ok {
		t.Fatal("newRawConn did not wrap a TCP connection")
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))

	var bufs [][]byte
	var want []byte
	for i := range 2500 { // 2,500 vectors of 1..1,500 octets: about 1.9 MB
		b := make([]byte, 1+i*7%1500)
		for j := range b {
			b[j] = byte(i + j)
		}
		bufs = append(bufs, b, nil) // empty vectors are skipped
		want = append(want, b...)
	}
	big := make([]byte, 3<<20)
	for j := range big {
		big[j] = byte(j * 31)
	}
	want = append(want, big...)

	got := make(chan []byte, 1)
	go func() {
		peer.SetDeadline(time.Now().Add(30 * time.Second))
		var all []byte
		buf := make([]byte, 64<<10)
		for len(all) < len(want) {
			n, err := peer.Read(buf)
			all = append(all, buf[:n]...)
			if err != nil {
				break
			}
		}
		got <- all
	}()
	if err := c.writeBuffers(bufs); err != nil {
		t.Fatalf("writeBuffers: %v", err)
	}
	if n, err := c.Write(big); err != nil || n != len(big) {
		t.Fatalf("Write: %d, %v", n, err)
	}
	all := <-got
	if len(all) != len(want) {
		t.Fatalf("the peer read %d octets, want %d", len(all), len(want))
	}
	for i := range all {
		if all[i] != want[i] {
			t.Fatalf("octet %d differs", i)
		}
	}
}
