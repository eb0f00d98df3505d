package faultpop3

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Bounds of the proxy's waits. The server and the client have timeouts
// of their own; these only keep a session of a stuck test from lasting.
const (
	// responseTimeout bounds the wait for the server's response to one
	// command.
	responseTimeout = time.Minute
	// writeTimeout bounds each write to the client.
	writeTimeout = 30 * time.Second
	// handshakeTimeout bounds a TLS handshake the proxy does itself.
	handshakeTimeout = 10 * time.Second
)

// state is the POP3 session state (RFC 1939 §3) as the server sees it.
type state int

const (
	authorization state = iota
	transaction
)

// session is one client's conversation through the proxy. The proxy
// passes one command at a time to the server and waits for its response
// before it reads the next, so that each fault sees the state the server
// will execute the command in, as a server reading a pipeline does.
type session struct {
	srv *server
	id  int // numbers the session among its server's
	up  net.Conn
	upR *bufio.Reader

	mu       sync.Mutex
	client   net.Conn  // a *tls.Conn once the proxy answered STLS itself
	inflight *exchange // the exchange whose response the server owes
	closed   chan struct{}
	once     sync.Once

	// What the faults follow, as the server sees it.
	state    state
	tls      bool         // the proxy did the TLS handshake with the client
	userArg  string       // the name USER gave
	login    string       // the name the session logged in with
	messages int          // messages in the maildrop at login
	marked   map[int]bool // messages a fault counts as marked deleted
}

// exchange is one command line sent to the server (or none, for the
// greeting) and the wait for its response.
type exchange struct {
	cmd    *command
	line   string
	hidden bool // a command the proxy added: its response is not passed on
	// startedTLS: the server accepted STLS; from here on the proxy relays
	// bytes unchanged, as it cannot read inside TLS.
	startedTLS bool
	done       chan struct{}
}

// relay carries one client's session to the server through the fault.
func relay(srv *server, client, up net.Conn) {
	s := &session{srv: srv, id: srv.sessionID(), up: up, upR: bufio.NewReader(up), client: client, closed: make(chan struct{})}
	defer s.close()
	// The greeting is owed before the server can send it.
	greeting := s.owe(&exchange{cmd: &command{greeting: true}})
	go s.fromServer()
	if s.await(greeting) {
		s.fromClient(client)
	}
}

// close ends the session on both sides.
func (s *session) close() {
	s.once.Do(func() {
		close(s.closed)
		s.up.Close()
		s.mu.Lock()
		s.client.Close()
		s.mu.Unlock()
	})
}

// fromClient reads the client's commands, one at a time.
func (s *session) fromClient(raw net.Conn) {
	r := bufio.NewReader(raw)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			c := parseCommand(line)
			switch s.handle(c) {
			case stop:
				return
			case relayBytes:
				io.Copy(s.up, r)
				return
			}
			switch {
			case c.startTLS:
				tc, ok := s.handshake(raw)
				if !ok {
					return
				}
				r = bufio.NewReader(tc)
			case s.srv.fault.dropPipelined:
				r.Discard(r.Buffered())
			}
		}
		if err != nil {
			return
		}
	}
}

// next is how a session goes on after a command.
type next int

const (
	goOn       next = iota
	stop            // the session is over
	relayBytes      // the server accepted STLS: bytes from here on
)

// handle runs one command through the fault.
func (s *session) handle(c *command) next {
	switch c.verb {
	case "USER":
		s.userArg = c.arg
	case "PASS":
		// RFC 1939 §7: PASS takes the name of the USER right before.
	default:
		s.userArg = ""
	}
	if hook := s.srv.fault.command; hook != nil {
		hook(s, c)
	}
	for _, l := range c.before {
		if !s.exchange(&exchange{cmd: c, line: l, hidden: true}) {
			return stop
		}
	}
	if c.send == "" {
		if !s.write(c.local...) {
			return stop
		}
		return goOn
	}
	x := &exchange{cmd: c, line: c.send}
	switch {
	case !s.exchange(x):
		return stop
	case x.startedTLS:
		return relayBytes
	}
	for _, l := range c.after {
		if !s.exchange(&exchange{cmd: c, line: l, hidden: true}) {
			return stop
		}
	}
	return goOn
}

// exchange sends x's line and waits until its response is handled.
func (s *session) exchange(x *exchange) bool {
	s.owe(x)
	if _, err := io.WriteString(s.up, x.line); err != nil {
		return false
	}
	return s.await(x)
}

// owe makes x the exchange whose response the server owes: set before
// its line goes out, so the response cannot come first.
func (s *session) owe(x *exchange) *exchange {
	x.done = make(chan struct{})
	s.mu.Lock()
	s.inflight = x
	s.mu.Unlock()
	return x
}

// await waits until x's response is handled.
func (s *session) await(x *exchange) bool {
	select {
	case <-x.done:
		return true
	case <-s.closed:
		return false
	case <-time.After(responseTimeout):
		return false
	}
}

// take returns the exchange in flight, leaving none.
func (s *session) take() *exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.inflight
	s.inflight = nil
	return x
}

// handshake does the TLS handshake with the client in the server's place
// (RFC 2595 §4), after the proxy answered STLS itself.
func (s *session) handshake(raw net.Conn) (net.Conn, bool) {
	if s.srv.tls == nil {
		return nil, false
	}
	tc := tls.Server(raw, s.srv.tls)
	tc.SetDeadline(time.Now().Add(handshakeTimeout))
	if tc.Handshake() != nil {
		return nil, false
	}
	tc.SetDeadline(time.Time{})
	s.mu.Lock()
	s.client, s.tls = tc, true
	s.mu.Unlock()
	return tc, true
}

// write sends lines to the client.
func (s *session) write(lines ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.client.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := io.WriteString(s.client, strings.Join(lines, ""))
	return err == nil
}

// fromServer reads the server's responses, passes each through the fault
// to the client, and tells the exchange in flight it is answered.
func (s *session) fromServer() {
	defer s.close()
	for {
		status, err := s.upR.ReadString('\n')
		if status == "" {
			return
		}
		x := s.take()
		if x == nil {
			x = &exchange{cmd: &command{}}
		}
		r := &response{status: status, multi: x.line != "" && err == nil && strings.HasPrefix(status, "+OK") && multiLine(x.line)}
		if r.multi && !s.readBody(r) {
			return
		}
		s.follow(x, r)
		if !x.hidden {
			if hook := s.srv.fault.response; hook != nil {
				hook(s, x.cmd, r)
			}
			if !s.write(r.lines()...) {
				return
			}
		}
		if x.done != nil {
			close(x.done)
		}
		switch {
		case r.closeAfter || err != nil:
			return
		case x.startedTLS:
			s.mu.Lock()
			client := s.client
			s.mu.Unlock()
			io.Copy(client, s.upR)
			return
		}
	}
}

// readBody reads a multi-line body up to its "." line.
func (s *session) readBody(r *response) bool {
	for {
		l, err := s.upR.ReadString('\n')
		if err != nil {
			return false
		}
		if l == ".\r\n" {
			return true
		}
		r.body = append(r.body, l)
	}
}

// follow keeps the session's state as the server's response sets it.
func (s *session) follow(x *exchange, r *response) {
	sent := parseCommand(x.line)
	switch {
	case !r.ok():
	case sent.verb == "PASS":
		// "+OK maildrop has n messages (m octets)": the reference
		// server's words.
		s.state, s.login = transaction, s.userArg
		s.messages = firstNumber(strings.TrimPrefix(r.text(), "maildrop has "))
	case sent.verb == "STLS":
		x.startedTLS = true
	}
}
