package smtptest

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/leakcheck"
)

// rawDial connects with a deadline on everything.
func rawDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

func greetingHangup(how Hangup) HangupFunc {
	return func(verb, _ string) Hangup {
		if verb == "GREETING" {
			return how
		}
		return HangupNone
	}
}

// TestEndlessLine: the greeting is one line that never ends, bounded by
// FloodOctets, after which the server closes.
func TestEndlessLine(t *testing.T) {
	leakcheck.Check(t)
	const limit = 3 << 20
	s := Start(t, Config{Hangup: greetingHangup(HangupEndlessLine), FloodOctets: limit})
	all, err := io.ReadAll(rawDial(t, s.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != limit || !bytes.HasPrefix(all, []byte("220-xxx")) || bytes.IndexByte(all, '\n') >= 0 {
		t.Errorf("got %d octets starting %q, a line feed at %d; want %d octets of one unended line", len(all), all[:min(len(all), 10)], bytes.IndexByte(all, '\n'), limit)
	}
	if s.Flooded() != limit {
		t.Errorf("Flooded() = %d, want %d", s.Flooded(), limit)
	}
}

// TestFlood: the greeting is a multi-line reply of lines of the configured
// length that never has a last line, up to FloodOctets.
func TestFlood(t *testing.T) {
	leakcheck.Check(t)
	const limit, lineLength = 1 << 20, 100
	s := Start(t, Config{Hangup: greetingHangup(HangupFlood), FloodOctets: limit, FloodLineLength: lineLength})
	r := bufio.NewReader(rawDial(t, s.Addr()))
	lines, octets := 0, 0
	for {
		line, err := r.ReadString('\n')
		octets += len(line)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lines++
		if len(line) != lineLength || !strings.HasPrefix(line, "220-flood") {
			t.Fatalf("line %d: %q, want a %d-octet continuation line", lines, line, lineLength)
		}
	}
	if octets != limit || lines != limit/lineLength {
		t.Errorf("%d octets in %d whole lines, want %d and %d", octets, lines, limit, limit/lineLength)
	}
}

// TestMidReply: the first line of a reply and half of the second, then
// the end of the connection.
func TestMidReply(t *testing.T) {
	leakcheck.Check(t)
	s := Start(t, Config{Hangup: greetingHangup(HangupMidReply)})
	all, err := io.ReadAll(rawDial(t, s.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	want := "220-first line of a reply that will not end well\r\n220-second line, cut in the midd"
	if string(all) != want {
		t.Errorf("got %q, want %q", all, want)
	}
}

// TestGarbage: a garbage greeting, and the session goes on.
func TestGarbage(t *testing.T) {
	leakcheck.Check(t)
	s := Start(t, Config{Hangup: greetingHangup(HangupGarbage)})
	c := rawDial(t, s.Addr())
	r := bufio.NewReader(c)
	if line, _ := r.ReadString('\n'); line != GarbageLine+"\r\n" {
		t.Fatalf("greeting %q, want the garbage line", line)
	}
	io.WriteString(c, "NOOP\r\n")
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "250 ") {
		t.Errorf("after garbage, NOOP got %q: the session should go on", line)
	}
}

// TestRawServer: it greets, answers what Answer answers, misbehaves on the
// rest (here a status line and a bounded flood), and closes everything at
// Close.
func TestRawServer(t *testing.T) {
	leakcheck.Check(t)
	s := StartRaw(t, RawConfig{
		Greeting: "+OK ready",
		Answer: func(line string) string {
			if line == "USER bob" {
				return "+OK\n+OK second line"
			}
			return ""
		},
		Misbehave: HangupFlood, Status: "+OK flood follows", FloodOctets: 64 << 10, FloodLineLength: 64,
	})
	c := rawDial(t, s.Addr())
	r := bufio.NewReader(c)
	io.WriteString(c, "USER bob\r\n")
	for _, want := range []string{"+OK ready\r\n", "+OK\r\n", "+OK second line\r\n"} {
		if line, _ := r.ReadString('\n'); line != want {
			t.Fatalf("got %q, want %q", line, want)
		}
	}
	io.WriteString(c, "LIST\r\n")
	if line, _ := r.ReadString('\n'); line != "+OK flood follows\r\n" {
		t.Fatalf("status %q", line)
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(rest))+int64(len("+OK flood follows\r\n")) != 64<<10 || s.Flooded() != 64<<10 || !bytes.HasPrefix(rest, []byte("floodxx")) {
		t.Errorf("flood of %d octets (Flooded %d) starting %q", len(rest), s.Flooded(), rest[:min(len(rest), 10)])
	}
	// A silent connection is ended by Close.
	silent := StartRaw(t, RawConfig{Misbehave: HangupSilent, Timeout: time.Minute})
	sc := rawDial(t, silent.Addr())
	silent.Close()
	sc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := sc.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after Close, a read got %v, want EOF", err)
	}
}
