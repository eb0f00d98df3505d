package imapbackend

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailcheck/mailcheck/reference/durable"
	"github.com/mailcheck/mailcheck/reference/mailstore"
)

// testServer is an IMAP server on loopback over a store in dir; users alice
// and bob, password "pw".
type testServer struct {
	t     *testing.T
	dir   string
	store *mailstore.Store
	addr  string
	stop  func()
}

func startIMAP(t *testing.T, dir string) *testServer {
	t.Helper()
	return startIMAPWith(t, dir, nil)
}

// startIMAPWith is startIMAP with the options changed by configure.
func startIMAPWith(t *testing.T, dir string, configure func(*Options)) *testServer {
	t.Helper()
	committer, err := durable.Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	store, err := mailstore.Open(dir, committer)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Store: store,
		Authenticate: func(_ context.Context, u, p string) (string, error) {
			if (u == "alice" || u == "bob") && p == "pw" {
				return u, nil
			}
			return "", errors.New("bad credentials")
		},
		InsecureAuth:     true,
		AuthFailureDelay: -1,
	}
	if configure != nil {
		configure(&opts)
	}
	srv := NewServer(opts)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	ts := &testServer{t: t, dir: dir, store: store, addr: l.Addr().String()}
	stopped := false
	ts.stop = func() {
		if !stopped {
			stopped = true
			srv.Close()
			committer.Close()
		}
	}
	t.Cleanup(ts.stop)
	return ts
}

// restart stops the server and starts a new one on the same data.
func (ts *testServer) restart() *testServer {
	ts.stop()
	return startIMAP(ts.t, ts.dir)
}

func (ts *testServer) deliver(user, msg string) {
	ts.t.Helper()
	if err := ts.store.Deliver([]string{user}, [][]byte{[]byte(msg)}); err != nil {
		ts.t.Fatal(err)
	}
}

// login dials and logs in as user; the client is closed when the test ends.
func (ts *testServer) login(user string, opts *imapclient.Options) *imapclient.Client {
	ts.t.Helper()
	c, err := imapclient.DialInsecure(ts.addr, opts)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { c.Close() })
	if err := c.Login(user, "pw").Wait(); err != nil {
		ts.t.Fatalf("login: %v", err)
	}
	return c
}

func within(t *testing.T, d time.Duration, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// rawConn is a line-level IMAP client, for checks where the bytes matter.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

// raw dials and logs in as user with a raw connection.
func (ts *testServer) raw(user string) *rawConn {
	ts.t.Helper()
	conn, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { conn.Close() })
	rc := &rawConn{t: ts.t, conn: conn, r: bufio.NewReader(conn)}
	rc.line() // greeting
	rc.cmd("l LOGIN " + user + " pw")
	return rc
}

func (rc *rawConn) line() string {
	rc.t.Helper()
	rc.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := rc.r.ReadString('\n')
	if err != nil {
		rc.t.Fatalf("read: %v", err)
	}
	return l
}

// cmd sends a tagged command and returns every line up to its tagged reply.
func (rc *rawConn) cmd(line string) string {
	rc.t.Helper()
	tag, _, _ := strings.Cut(line, " ")
	rc.conn.Write([]byte(line + "\r\n"))
	var out strings.Builder
	for {
		l := rc.line()
		out.WriteString(l)
		if strings.HasPrefix(l, tag+" ") {
			return out.String()
		}
	}
}
