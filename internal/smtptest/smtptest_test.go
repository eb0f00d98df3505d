package smtptest

import (
	"errors"
	"io"
	"net"
	"net/textproto"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"
)

// dial opens a client connection with a deadline on every exchange.
func dial(t *testing.T, s *Server) *textproto.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.Addr(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	c := textproto.NewConn(conn)
	t.Cleanup(func() { c.Close() })
	return c
}

// exchange sends cmd (unless "") and checks the reply code.
func exchange(t *testing.T, c *textproto.Conn, cmd string, code int) string {
	t.Helper()
	if cmd != "" {
		if _, err := c.Cmd("%s", cmd); err != nil {
			t.Fatal(err)
		}
	}
	_, msg, err := c.ReadResponse(code)
	if err != nil {
		t.Fatalf("%q: %v", cmd, err)
	}
	return msg
}

func TestSessionIsRecorded(t *testing.T) {
	s := Start(t, Config{
		Extensions: []string{"PIPELINING", "8BITMIME"},
		Reply:      Refuse("RCPT", "<bad@example.net>", "550 5.1.1 no such user"),
	})
	c := dial(t, s)
	exchange(t, c, "", 220)
	if msg := exchange(t, c, "EHLO client.test", 250); msg != "fake.test\nPIPELINING\n8BITMIME" {
		t.Errorf("EHLO reply %q", msg)
	}
	exchange(t, c, "DATA", 554) // no recipient yet
	exchange(t, c, "MAIL FROM:<a@example.org>", 250)
	exchange(t, c, "RCPT TO:<bad@example.net>", 550)
	exchange(t, c, "RCPT TO:<b@example.net>", 250)
	exchange(t, c, "DATA", 354)
	if _, err := c.Cmd("Subject: x\r\n\r\n..leading dot\r\nend\r\n."); err != nil {
		t.Fatal(err)
	}
	exchange(t, c, "", 250)
	exchange(t, c, "QUIT", 221)

	got := s.Messages()
	want := Message{From: "FROM:<a@example.org>", Rcpts: []string{"TO:<b@example.net>"}, Data: []byte("Subject: x\r\n\r\n.leading dot\r\nend\r\n")}
	if len(got) != 1 || got[0].From != want.From || !slices.Equal(got[0].Rcpts, want.Rcpts) || string(got[0].Data) != string(want.Data) {
		t.Errorf("messages %q, want %q", got, want)
	}
	if s.Conns() != 1 || s.CountCommands("rcpt to:") != 2 || len(s.Commands()) != 7 {
		t.Errorf("conns=%d RCPT=%d commands=%q", s.Conns(), s.CountCommands("RCPT TO:"), s.Commands())
	}
}

func TestReply421ClosesAndSetReply(t *testing.T) {
	s := Start(t, Config{Reply: Refuse("MAIL", "", "421 4.3.2 shutting down")})
	c := dial(t, s)
	exchange(t, c, "", 220)
	exchange(t, c, "HELO client.test", 250)
	exchange(t, c, "MAIL FROM:<a@example.org>", 421)
	if _, _, err := c.ReadResponse(0); err == nil {
		t.Error("connection still open after 421")
	}

	s.SetReply(nil)
	c = dial(t, s)
	exchange(t, c, "", 220)
	exchange(t, c, "MAIL FROM:<a@example.org>", 250)
	if s.Conns() != 2 {
		t.Errorf("conns = %d, want 2", s.Conns())
	}
}

func TestCloseDropsIdleConnections(t *testing.T) {
	s := Start(t, Config{})
	c := dial(t, s)
	exchange(t, c, "", 220)
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close hangs on an idle connection")
	}
	if _, _, err := c.ReadResponse(0); err == nil {
		t.Error("connection still open after Close")
	}
}

func TestHangup(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    Hangup
		want func(err error) bool
	}{
		{"close", HangupClose, func(err error) bool { return errors.Is(err, io.EOF) }},
		{"reset", HangupReset, func(err error) bool { return errors.Is(err, syscall.ECONNRESET) }},
		{"silent", HangupSilent, func(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Start(t, Config{Hangup: func(verb, arg string) Hangup {
				if verb == "MAIL" {
					return tc.h
				}
				return HangupNone
			}})
			conn, err := net.DialTimeout("tcp", s.Addr(), 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			c := textproto.NewConn(conn)
			exchange(t, c, "", 220)
			exchange(t, c, "EHLO client.test", 250)
			if err := c.PrintfLine("MAIL FROM:<a@example.org>"); err != nil {
				t.Fatal(err)
			}
			if tc.h == HangupSilent {
				// The connection stays open, and NOOP gets no reply either.
				if err := c.PrintfLine("NOOP"); err != nil {
					t.Fatal(err)
				}
				conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			}
			if _, _, err := c.ReadResponse(250); !tc.want(err) {
				t.Errorf("after MAIL: %v", err)
			}
			if s.CountCommands("MAIL") != 1 {
				t.Errorf("commands %q", s.Commands())
			}
		})
	}
}
