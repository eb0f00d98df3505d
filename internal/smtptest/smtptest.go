// Package smtptest runs scripted fake SMTP servers on loopback for tests: it
// records what clients send and answers what the test scripts, so client
// code can be tested against faults a real server would not produce, up to
// hostile ones (a reply without end, a line without end, garbage, a
// connection cut mid-reply; see Hangup). RawServer misbehaves the same
// ways for any protocol whose server speaks first (POP3, IMAP).
package smtptest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/loopback"
)

// DefaultTimeout bounds every read, write and TLS handshake of a server
// connection when Config.Timeout is zero, so that a client that stops
// talking cannot hang a test.
const DefaultTimeout = 10 * time.Second

// ReplyFunc scripts a reply. verb is "GREETING" (for the banner), "EHLO",
// "HELO", "MAIL", "RCPT", "DATA", "STARTTLS", "RSET", or "." for the end of
// data; arg is the rest of the command line after the verb ("FROM:<a@b>",
// "TO:<c@d>"), or for "." the received message, unstuffed. It returns the
// full reply line, such as "550 5.1.1 no such user", or "" to keep the
// default. A reply starting with "421" closes the connection after it is
// sent. A ReplyFunc may block, for instance to hold a transaction open,
// but the connection's timeout keeps running.
type ReplyFunc func(verb, arg string) string

// Hangup is how a server misbehaves instead of replying: most ways end
// the connection; HangupGarbage answers nonsense and goes on.
type Hangup int

// The ways to hang up.
const (
	// HangupNone replies as usual.
	HangupNone Hangup = iota
	// HangupClose closes the connection without a reply: the client
	// reads EOF.
	HangupClose
	// HangupReset resets the connection (TCP RST, SO_LINGER 0): the
	// client reads ECONNRESET.
	HangupReset
	// HangupSilent keeps the connection open but never answers again: it
	// reads and discards whatever comes until the client leaves, the
	// server closes or the connection's timeout runs out, so the client
	// times out.
	HangupSilent
	// HangupEndlessLine starts a reply line ("250-xxxx…") that never
	// ends: no line feed, until Config.FloodOctets are sent or the client
	// leaves or stops reading; then the server closes.
	HangupEndlessLine
	// HangupFlood sends a multi-line reply that never ends ("250-flood
	// xxx…" lines of Config.FloodLineLength octets, never a last line)
	// until Config.FloodOctets are sent or the client leaves or stops
	// reading; then the server closes.
	HangupFlood
	// HangupMidReply sends the first line of a multi-line reply and half
	// of the second, then closes. (A RawServer without RawConfig.Status
	// sends only the half line.)
	HangupMidReply
	// HangupGarbage answers with a line that is no reply of any protocol
	// (see GarbageLine) and keeps the connection.
	HangupGarbage
)

// HangupFunc is asked before each scriptable reply, with the same verb and
// arg as a ReplyFunc (before it), whether to hang up instead of replying.
// It may block like a ReplyFunc.
type HangupFunc func(verb, arg string) Hangup

// Config scripts a Server.
type Config struct {
	// Extensions are the EHLO keywords advertised, such as "PIPELINING"
	// or "8BITMIME". STARTTLS is added by the server when TLS is set.
	Extensions []string
	// Reply, when set, may override the default replies; see ReplyFunc.
	// Server.SetReply changes it while the server runs.
	Reply ReplyFunc
	// Hangup, when set, may end a connection instead of a reply; see
	// HangupFunc.
	Hangup HangupFunc
	// TLS, when set, makes the server advertise STARTTLS before the
	// handshake and answer it with this configuration. A configuration
	// without certificates fails every handshake, which drops the
	// connection.
	TLS *tls.Config
	// Timeout bounds every read, write and TLS handshake on a
	// connection; zero means DefaultTimeout.
	Timeout time.Duration
	// Listener, when set, is served instead of a new listener on
	// 127.0.0.1:0, for a test that brings a server back on an address its
	// client already knows. The server closes it at cleanup.
	Listener net.Listener
	// FloodOctets bounds what HangupEndlessLine and HangupFlood send on a
	// connection; zero means DefaultFloodOctets.
	FloodOctets int64
	// FloodLineLength is the length of each line of HangupFlood, CRLF
	// included; zero means DefaultFloodLineLength.
	FloodLineLength int
}

// Server is a running fake SMTP server. Every command is answered with a
// default positive reply unless the script says otherwise; NOOP, QUIT and
// unknown commands (502) are not scriptable, and DATA without an accepted
// recipient is refused with 554. Accepted transactions, the raw command
// lines and the connections are recorded. Its methods are safe for
// concurrent use.
type Server struct {
	l          loopback.Listener
	extensions []string
	tls        *tls.Config
	timeout    time.Duration
	flood      floodSize
	flooded    atomic.Int64

	mu       sync.Mutex
	reply    ReplyFunc
	hangup   HangupFunc
	commands []string
	messages []Message
}

// Message is one transaction that the server accepted.
type Message struct {
	// From is the MAIL argument, such as "FROM:<a@example.org> BODY=8BITMIME".
	From string
	// Rcpts are the arguments of the accepted RCPT commands, such as
	// "TO:<b@example.net>", in order.
	Rcpts []string
	// Data is the message as the sender meant it: dot stuffing undone,
	// without the terminating ".\r\n".
	Data []byte
}

// Start starts a server scripted by cfg and registers its Close with
// t.Cleanup. It listens on 127.0.0.1:0 unless cfg.Listener is set.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	ln := cfg.Listener
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
	}
	s := &Server{
		extensions: append([]string(nil), cfg.Extensions...),
		tls:        cfg.TLS,
		timeout:    cfg.Timeout,
		reply:      cfg.Reply,
		hangup:     cfg.Hangup,
		flood:      floodSize{cfg.FloodOctets, cfg.FloodLineLength}.withDefaults(),
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	t.Cleanup(s.Close)
	s.l.Start(ln, s.serve)
	return s
}

// Addr is the server's address, host:port.
func (s *Server) Addr() string { return s.l.Addr() }

// SetReply replaces the reply script (nil restores the defaults); it
// applies from the next command on.
func (s *Server) SetReply(f ReplyFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply = f
}

// Close stops the listener, drops the open connections and waits for their
// goroutines. Start registers it with t.Cleanup; calling it earlier, and
// more than once, is fine.
func (s *Server) Close() { s.l.Close() }

// Conns is the number of connections accepted so far.
func (s *Server) Conns() int { return s.l.Accepted() }

// Commands returns the command lines received so far, on all connections,
// without CRLF and without DATA content.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

// CountCommands counts the received command lines that start with prefix,
// ignoring case: CountCommands("EHLO"), CountCommands("MAIL FROM:<>").
func (s *Server) CountCommands(prefix string) int {
	n := 0
	for _, c := range s.Commands() {
		if len(c) >= len(prefix) && strings.EqualFold(c[:len(prefix)], prefix) {
			n++
		}
	}
	return n
}

// Messages returns the transactions accepted so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// scripted returns the reply to verb, or "" after hanging up on conn (raw
// is the TCP connection under it).
func (s *Server) scripted(conn, raw net.Conn, verb, arg, def string) string {
	s.mu.Lock()
	f, h := s.reply, s.hangup
	s.mu.Unlock()
	if h != nil {
		if how := h(verb, arg); how != HangupNone {
			code := replyCode(verb)
			garbage, goOn := misbehave(conn, raw, how, hostile{
				first: code + "-first line of a reply that will not end well",
				line:  code + "-",
				size:  s.flood,
				wait:  s.timeout,
				sent:  &s.flooded,
			})
			if goOn {
				return garbage
			}
			return ""
		}
	}
	if f != nil {
		if r := f(verb, arg); r != "" {
			return r
		}
	}
	return def
}

// Flooded is the number of octets the server sent in floods and endless
// lines (HangupFlood, HangupEndlessLine) so far, on all connections.
func (s *Server) Flooded() int64 { return s.flooded.Load() }

// replyCode is the code of the reply a verb gets by default, for the
// lines of a misbehaving reply.
func replyCode(verb string) string {
	switch verb {
	case "GREETING", "STARTTLS":
		return "220"
	case "DATA":
		return "354"
	}
	return "250"
}

// ehloDefault stands for the default EHLO reply, which the server builds.
const ehloDefault = "250 (default)"

func (s *Server) record(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

func (s *Server) serve(conn net.Conn) {
	raw := conn
	defer func() { conn.Close() }()
	extend := func() { conn.SetDeadline(time.Now().Add(s.timeout)) }
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	// writeLines sends reply lines and reports whether the session goes on.
	writeLines := func(lines ...string) bool {
		extend()
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		return w.Flush() == nil && !strings.HasPrefix(lines[len(lines)-1], "421")
	}
	greeting := s.scripted(conn, raw, "GREETING", "", "220 fake.test ESMTP")
	if greeting == "" || !writeLines(greeting) {
		return
	}
	var from string
	var rcpts []string
	for {
		extend()
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\r\n")
		s.record(func() { s.commands = append(s.commands, line) })
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		var reply string
		switch verb {
		case "EHLO":
			reply = s.scripted(conn, raw, verb, arg, ehloDefault)
			if reply == "" {
				return
			}
			if reply == ehloDefault {
				kws := append([]string{"fake.test"}, s.extensions...)
				if _, isTLS := conn.(*tls.Conn); s.tls != nil && !isTLS {
					kws = append(kws, "STARTTLS")
				}
				lines := make([]string, len(kws))
				for i, kw := range kws {
					sep := "-"
					if i == len(kws)-1 {
						sep = " "
					}
					lines[i] = "250" + sep + kw
				}
				if !writeLines(lines...) {
					return
				}
				continue
			}
		case "HELO":
			reply = s.scripted(conn, raw, verb, arg, "250 fake.test")
		case "MAIL":
			reply = s.scripted(conn, raw, verb, arg, "250 2.1.0 OK")
			if reply != "" && reply[0] == '2' {
				from, rcpts = arg, nil
			}
		case "RCPT":
			reply = s.scripted(conn, raw, verb, arg, "250 2.1.5 OK")
			if reply != "" && reply[0] == '2' {
				rcpts = append(rcpts, arg)
			}
		case "DATA":
			if len(rcpts) == 0 {
				reply = "554 5.5.1 no valid recipients"
				break
			}
			reply = s.scripted(conn, raw, verb, arg, "354 go ahead")
			if reply == "" {
				return
			}
			if !strings.HasPrefix(reply, "354") {
				break
			}
			if !writeLines(reply) {
				return
			}
			data, ok := readData(r, extend)
			if !ok {
				return
			}
			reply = s.scripted(conn, raw, ".", string(data), "250 2.0.0 queued")
			if reply != "" && reply[0] == '2' {
				m := Message{From: from, Rcpts: rcpts, Data: data}
				s.record(func() { s.messages = append(s.messages, m) })
			}
			from, rcpts = "", nil
		case "RSET":
			from, rcpts = "", nil
			reply = s.scripted(conn, raw, verb, arg, "250 2.0.0 OK")
		case "NOOP":
			reply = "250 2.0.0 OK"
		case "QUIT":
			writeLines("221 2.0.0 bye")
			return
		case "STARTTLS":
			reply = s.scripted(conn, raw, verb, arg, "220 2.0.0 ready")
			if s.tls == nil || reply == "" || reply[0] != '2' {
				break
			}
			if !writeLines(reply) {
				return
			}
			tlsConn := tls.Server(conn, s.tls)
			extend()
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
		if reply == "" || !writeLines(reply) {
			return
		}
	}
}

// readData reads a DATA block up to the final dot and undoes dot stuffing
// (RFC 5321 §4.5.2), extending the deadline for every line.
func readData(r *bufio.Reader, extend func()) ([]byte, bool) {
	var data []byte
	for {
		extend()
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

// Refuse returns a script that answers verb with reply and keeps the
// default for everything else. arg, when not "", limits it to commands
// whose argument equals arg ignoring case; for MAIL and RCPT the path alone
// also matches, so "TO:<b@example.net>" and "<b@example.net>" both pick
// RCPT TO:<b@example.net>.
func Refuse(verb, arg, reply string) ReplyFunc {
	return func(v, a string) string {
		if v != verb {
			return ""
		}
		if arg == "" || strings.EqualFold(a, arg) {
			return reply
		}
		if v == "MAIL" || v == "RCPT" {
			if _, path, ok := strings.Cut(a, ":"); ok && strings.EqualFold(path, arg) {
				return reply
			}
		}
		return ""
	}
}
