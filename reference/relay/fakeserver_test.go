package relay

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"
)

// fakeServer is a scripted SMTP server for tests: it answers every command
// with a default positive reply unless Reply says otherwise, and records
// the commands, the connections and the messages it received.
type fakeServer struct {
	t  testing.TB
	ln net.Listener
	// Extensions are the EHLO keywords advertised.
	Extensions []string
	// Reply, when set, may override the reply to a command: verb is
	// "GREETING", "EHLO", "HELO", "MAIL", "RCPT", "DATA", "STARTTLS",
	// "RSET", or "." for the end of data (arg is then the received
	// message). It returns "" to keep the default.
	Reply func(verb, arg string) string
	// TLS, when set, is used to answer STARTTLS.
	TLS *tls.Config

	mu       sync.Mutex
	conns    int
	open     map[net.Conn]bool
	commands []string
	messages []fakeMessage
	wg       sync.WaitGroup
}

// fakeMessage is one transaction that the server accepted.
type fakeMessage struct {
	From  string
	Rcpts []string
	Data  []byte // unstuffed, as the sender's message
}

func newFakeServer(t testing.TB, extensions ...string) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{t: t, ln: ln, Extensions: extensions, open: make(map[net.Conn]bool)}
	t.Cleanup(s.Close)
	return s
}

// Start begins accepting connections; scripting fields must be set first.
func (s *fakeServer) Start() *fakeServer {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := s.ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			s.open[conn] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(conn)
				s.mu.Lock()
				delete(s.open, conn)
				s.mu.Unlock()
			}()
		}
	}()
	return s
}

func (s *fakeServer) Addr() string { return s.ln.Addr().String() }

// Close stops the listener and drops the open connections.
func (s *fakeServer) Close() {
	s.ln.Close()
	s.mu.Lock()
	for conn := range s.open {
		conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *fakeServer) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func (s *fakeServer) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

func (s *fakeServer) Messages() []fakeMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]fakeMessage(nil), s.messages...)
}

// CountCommands counts received commands that start with prefix, ignoring
// case.
func (s *fakeServer) CountCommands(prefix string) int {
	n := 0
	for _, c := range s.Commands() {
		if len(c) >= len(prefix) && strings.EqualFold(c[:len(prefix)], prefix) {
			n++
		}
	}
	return n
}

func (s *fakeServer) reply(verb, arg, def string) string {
	if s.Reply != nil {
		if r := s.Reply(verb, arg); r != "" {
			return r
		}
	}
	return def
}

func (s *fakeServer) serve(conn net.Conn) {
	defer func() { conn.Close() }()
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	send := func(reply string) bool {
		w.WriteString(reply + "\r\n")
		return w.Flush() == nil && !strings.HasPrefix(reply, "421")
	}
	if !send(s.reply("GREETING", "", "220 fake.test ESMTP")) {
		return
	}
	var from string
	var rcpts []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\r\n")
		s.mu.Lock()
		s.commands = append(s.commands, line)
		s.mu.Unlock()
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		var reply string
		switch verb {
		case "EHLO":
			reply = s.reply(verb, arg, "")
			if reply == "" {
				lines := append([]string{"fake.test"}, s.Extensions...)
				if s.TLS != nil && !isTLS(conn) {
					lines = append(lines, "STARTTLS")
				}
				for i, l := range lines {
					sep := "-"
					if i == len(lines)-1 {
						sep = " "
					}
					w.WriteString("250" + sep + l + "\r\n")
				}
				if w.Flush() != nil {
					return
				}
				continue
			}
		case "HELO":
			reply = s.reply(verb, arg, "250 fake.test")
		case "MAIL":
			reply = s.reply(verb, arg, "250 2.1.0 OK")
			if reply[0] == '2' {
				from, rcpts = arg, nil
			}
		case "RCPT":
			reply = s.reply(verb, arg, "250 2.1.5 OK")
			if reply[0] == '2' {
				rcpts = append(rcpts, arg)
			}
		case "DATA":
			if len(rcpts) == 0 {
				reply = "554 5.5.1 no valid recipients"
				break
			}
			reply = s.reply(verb, arg, "354 go ahead")
			if !strings.HasPrefix(reply, "354") {
				break
			}
			if !send(reply) {
				return
			}
			data, ok := readData(r)
			if !ok {
				return
			}
			reply = s.reply(".", string(data), "250 2.0.0 queued")
			if reply[0] == '2' {
				s.mu.Lock()
				s.messages = append(s.messages, fakeMessage{From: from, Rcpts: rcpts, Data: data})
				s.mu.Unlock()
			}
			from, rcpts = "", nil
		case "RSET":
			from, rcpts = "", nil
			reply = s.reply(verb, arg, "250 2.0.0 OK")
		case "NOOP":
			reply = "250 2.0.0 OK"
		case "QUIT":
			send("221 2.0.0 bye")
			return
		case "STARTTLS":
			reply = s.reply(verb, arg, "220 2.0.0 ready")
			if s.TLS == nil || reply[0] != '2' {
				break
			}
			send(reply)
			tlsConn := tls.Server(conn, s.TLS)
			if tlsConn.Handshake() != nil {
				return
			}
			conn = tlsConn
			r = bufio.NewReader(conn)
			w = bufio.NewWriter(conn)
			from, rcpts = "", nil
			continue
		default:
			reply = "502 5.5.2 command not implemented"
		}
		if !send(reply) {
			return
		}
	}
}

func isTLS(conn net.Conn) bool {
	_, ok := conn.(*tls.Conn)
	return ok
}

// readData reads a DATA block up to the final dot and undoes dot stuffing
// (RFC 5321 §4.5.2).
func readData(r *bufio.Reader) ([]byte, bool) {
	var data []byte
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return nil, false
		}
		if bytes.Equal(line, []byte(".\r\n")) {
			return data, true
		}
		if line[0] == '.' {
			line = line[1:]
		}
		data = append(data, line...)
	}
}
