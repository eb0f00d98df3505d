// Package faultproxy puts a line-rewriting proxy in front of a correct
// server, so a test can prove a check against a server with one wire
// fault without the server itself carrying the fault. It is test-only:
// nothing the mailcheck binary links imports it.
package faultproxy

import (
	"bufio"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/loopback"
)

// Fault alters a conversation line by line (a line ends at LF, which is
// passed on with it). Nil fields pass lines unchanged.
type Fault struct {
	// Server rewrites the n-th line from the server (n from 0) into the
	// lines passed on to the client; nil or an empty result drops it.
	Server func(n int, line string) []string
	// Client sees each line from the client: forward says whether the
	// server gets it, reply is sent to the client instead (or as well).
	Client func(line string) (forward bool, reply string)
	// Rewrite, after Client, changes a line the server gets.
	Rewrite func(line string) string
	// PerConn, when set, gives each connection a fault of its own, for
	// faults that depend on what was said before on that connection.
	PerConn func() *Fault
}

// DialTimeout bounds the proxy's connection to the server.
const DialTimeout = 5 * time.Second

// Start relays connections to upstream through f until the test ends and
// returns the proxy's address (127.0.0.1, a free port).
func Start(t testing.TB, upstream string, f *Fault) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var l loopback.Listener
	l.Start(ln, func(c net.Conn) { relay(c, upstream, f) })
	t.Cleanup(l.Close)
	return l.Addr()
}

// relay carries one connection until either side ends it.
func relay(client net.Conn, upstream string, f *Fault) {
	if f.PerConn != nil {
		f = f.PerConn()
	}
	server, err := net.DialTimeout("tcp", upstream, DialTimeout)
	if err != nil {
		return
	}
	defer server.Close()
	var mu sync.Mutex
	toClient := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		client.Write([]byte(s))
	}
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		fromClient(client, server, f, toClient)
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		fromServer(server, f, toClient)
	}()
	<-done
	client.Close()
	server.Close()
	<-done
}

func fromClient(client, server net.Conn, f *Fault, toClient func(string)) {
	r := bufio.NewReader(client)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			forward, reply := true, ""
			if f.Client != nil {
				forward, reply = f.Client(line)
			}
			if forward && f.Rewrite != nil {
				line = f.Rewrite(line)
			}
			if forward {
				server.Write([]byte(line))
			}
			if reply != "" {
				toClient(reply)
			}
		}
		if err != nil {
			return
		}
	}
}

func fromServer(server net.Conn, f *Fault, toClient func(string)) {
	r := bufio.NewReader(server)
	for n := 0; ; n++ {
		line, err := r.ReadString('\n')
		if line != "" {
			out := []string{line}
			if f.Server != nil {
				out = f.Server(n, line)
			}
			for _, o := range out {
				toClient(o)
			}
		}
		if err != nil {
			return
		}
	}
}
