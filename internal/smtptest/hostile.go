package smtptest

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/loopback"
)

// Defaults of the floods (HangupFlood, HangupEndlessLine).
const (
	// DefaultFloodOctets is more than any client should ever buffer, and
	// small enough that loopback sends it in well under a second.
	DefaultFloodOctets = 256 << 20
	// DefaultFloodLineLength makes a flood of short lines: over a million
	// lines per 64 MiB.
	DefaultFloodLineLength = 48
)

// GarbageLine is what HangupGarbage answers: no SMTP reply (no code), no
// POP3 status, no IMAP response, with a NUL and 8-bit octets, the way a
// web server or a line-noise generator would answer.
const GarbageLine = "HTTP/1.0 400 Bad Request \x00\xfe\xff garbage"

// floodSize is how much a flood sends and in what lines.
type floodSize struct {
	octets     int64
	lineLength int
}

func (f floodSize) withDefaults() floodSize {
	if f.octets <= 0 {
		f.octets = DefaultFloodOctets
	}
	if f.lineLength <= 0 {
		f.lineLength = DefaultFloodLineLength
	}
	return f
}

// hostile is what a misbehaving answer is made of.
type hostile struct {
	// first, when set, is a complete first line (without CRLF) of
	// HangupMidReply's answer, before the line that is cut.
	first string
	// status, when set, is a line sent before a flood: a raw server's
	// status line that the flood lines follow.
	status string
	// line starts every line of a flood and the endless line ("250-",
	// "* OK ", "").
	line string
	size floodSize
	// wait bounds each write (and, for HangupSilent, the whole wait).
	wait time.Duration
	sent *atomic.Int64
}

// misbehave carries out how on conn (raw is the TCP connection under it)
// in place of an answer. It reports whether the session goes on; it does
// only for HangupGarbage, whose line it returns.
func misbehave(conn, raw net.Conn, how Hangup, h hostile) (garbage string, goOn bool) {
	switch how {
	case HangupClose:
		conn.Close()
	case HangupReset:
		if tc, ok := raw.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		raw.Close()
	case HangupSilent:
		conn.SetDeadline(time.Now().Add(h.wait))
		io.Copy(io.Discard, conn)
	case HangupEndlessLine:
		chunk := []byte(strings.Repeat("x", 64<<10))
		flood(conn, []byte(h.line), chunk, h)
		conn.Close()
	case HangupFlood:
		var start []byte
		if h.status != "" {
			start = []byte(h.status + "\r\n")
		}
		flood(conn, start, floodChunk(h.line, h.size.lineLength), h)
		conn.Close()
	case HangupMidReply:
		out := h.line + "second line, cut in the midd"
		if h.first != "" {
			out = h.first + "\r\n" + out
		}
		conn.SetWriteDeadline(time.Now().Add(h.wait))
		conn.Write([]byte(out))
		conn.Close()
	case HangupGarbage:
		return GarbageLine, true
	}
	return "", false
}

// floodChunk is about 64 KiB of flood lines: prefix, then "flood" and
// filler up to lineLength octets with CRLF. No line is a last line: an
// SMTP prefix ends in "-", and none is a POP3 "." or an IMAP tag.
func floodChunk(prefix string, lineLength int) []byte {
	body := "flood"
	if pad := lineLength - len(prefix) - len(body) - 2; pad > 0 {
		body += strings.Repeat("x", pad)
	}
	line := prefix + body + "\r\n"
	return []byte(strings.Repeat(line, max(1, (64<<10)/len(line))))
}

// flood writes start, then chunk again and again, until h.size.octets are
// out, the client stops reading for h.wait, or it leaves. Every write has
// a deadline, and the loop ends by the octet bound.
func flood(conn net.Conn, start, chunk []byte, h hostile) {
	out := int64(0)
	write := func(b []byte) bool {
		if rest := h.size.octets - out; int64(len(b)) > rest {
			b = b[:rest]
		}
		conn.SetWriteDeadline(time.Now().Add(h.wait))
		n, err := conn.Write(b)
		out += int64(n)
		h.sent.Add(int64(n))
		return err == nil && out < h.size.octets
	}
	if len(start) > 0 && !write(start) {
		return
	}
	for write(chunk) {
	}
}

// RawConfig scripts a RawServer.
type RawConfig struct {
	// Greeting is sent when a client connects (CRLF added): "+OK POP3
	// ready", "* OK IMAP4rev1 ready". Empty: the server misbehaves at
	// once instead of greeting.
	Greeting string
	// Answer, when set, answers a command line (without CRLF) with the
	// lines it returns (CRLF added to each, lines separated by "\n"), or
	// returns "" to misbehave instead. Without it every command gets the
	// misbehaviour.
	Answer func(line string) string
	// Misbehave is how the server misbehaves: any Hangup but HangupNone.
	Misbehave Hangup
	// Status is the first line of a misbehaving answer: the status line
	// a flood follows ("+OK", "* 1 FETCH (BODY[] {99999999}") and the
	// complete first line of HangupMidReply (without it, only the cut
	// line is sent). Line prefixes each flood line ("* OK ", or "" for
	// POP3 body lines), the endless line and the cut line.
	Status, Line string
	// FloodOctets, FloodLineLength and Timeout are as in Config.
	FloodOctets     int64
	FloodLineLength int
	Timeout         time.Duration
}

// RawServer is a line server for any protocol whose server speaks first
// with one line (SMTP, POP3, IMAP): it greets, answers what RawConfig.Answer
// answers, and misbehaves otherwise. The conformance suites' POP3 and IMAP
// hostile-server tests use it; Server is the scripted SMTP server.
type RawServer struct {
	l       loopback.Listener
	cfg     RawConfig
	flooded atomic.Int64
}

// StartRaw starts a RawServer on 127.0.0.1:0 and registers its Close with
// t.Cleanup.
func StartRaw(t testing.TB, cfg RawConfig) *RawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	s := &RawServer{cfg: cfg}
	t.Cleanup(s.Close)
	s.l.Start(ln, s.serve)
	return s
}

// Addr is the server's address, host:port.
func (s *RawServer) Addr() string { return s.l.Addr() }

// Flooded is the number of octets sent in floods and endless lines so far.
func (s *RawServer) Flooded() int64 { return s.flooded.Load() }

// Close stops the listener, drops the open connections and waits for their
// goroutines; calling it more than once is fine.
func (s *RawServer) Close() { s.l.Close() }

func (s *RawServer) serve(conn net.Conn) {
	h := hostile{
		first: s.cfg.Status, status: s.cfg.Status, line: s.cfg.Line,
		size: floodSize{s.cfg.FloodOctets, s.cfg.FloodLineLength}.withDefaults(),
		wait: s.cfg.Timeout, sent: &s.flooded,
	}
	w := bufio.NewWriter(conn)
	send := func(text string) bool {
		conn.SetWriteDeadline(time.Now().Add(s.cfg.Timeout))
		for _, l := range strings.Split(text, "\n") {
			w.WriteString(l + "\r\n")
		}
		return w.Flush() == nil
	}
	// answer misbehaves and reports whether the session goes on.
	answer := func() bool {
		garbage, goOn := misbehave(conn, conn, s.cfg.Misbehave, h)
		return goOn && send(garbage)
	}
	if s.cfg.Greeting == "" {
		if !answer() {
			return
		}
	} else if !send(s.cfg.Greeting) {
		return
	}
	// Lines from the client are bounded: a client cannot make the fake
	// buffer without end either.
	r := bufio.NewReaderSize(conn, 64<<10)
	for {
		conn.SetReadDeadline(time.Now().Add(s.cfg.Timeout))
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(string(line), "\r\n")
		if s.cfg.Answer != nil {
			if a := s.cfg.Answer(cmd); a != "" {
				if !send(a) {
					return
				}
				continue
			}
		}
		if !answer() {
			return
		}
	}
}
