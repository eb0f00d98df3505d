package smtpsend

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/agent/session"
	"github.com/mailcheck/mailcheck/agent/transcript"
	"github.com/mailcheck/mailcheck/internal/smtptest"
	"github.com/mailcheck/mailcheck/target"
)

// serveOnce runs script on the first connection to a loopback listener,
// with a 5s deadline, and returns the address; the script's error, if
// any, fails the test at cleanup.
func serveOnce(t *testing.T, script func(r *bufio.Reader, w net.Conn) error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		done <- script(bufio.NewReader(conn), conn)
	}()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err != nil {
			t.Error("server:", err)
		}
	})
	return ln.Addr().String()
}

func options(t *testing.T, addr string, tr *transcript.Transcript) Options {
	t.Helper()
	target, err := target.ParseTarget("smtp://"+addr, "")
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		Options: session.Options{Target: target, StartTLS: session.StartTLSAuto, Timeout: 5 * time.Second, Transcript: tr},
		From:    "alice@example.org", To: []string{"bob@example.org", "carol@example.org"},
	}
}

func expectLine(r *bufio.Reader, want string) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimRight(line, "\r\n") != want {
		return errors.New("got " + line + ", want " + want)
	}
	return nil
}

// With pipelining, MAIL and every RCPT arrive before the server has said
// anything about MAIL (RFC 2920 §3.1): a client that waited for the MAIL
// reply would never send RCPT, and the server's read would time out.
func TestPipeliningSendsTheEnvelopeInOneGroup(t *testing.T) {
	addr := serveOnce(t, func(r *bufio.Reader, w net.Conn) error {
		w.Write([]byte("220 fake ESMTP\r\n"))
		if _, err := r.ReadString('\n'); err != nil {
			return err
		}
		w.Write([]byte("250-fake\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"))
		for _, want := range []string{"MAIL FROM:<alice@example.org> SIZE=17", "RCPT TO:<bob@example.org>", "RCPT TO:<carol@example.org>"} {
			if err := expectLine(r, want); err != nil {
				return err
			}
		}
		w.Write([]byte("250 ok\r\n250 ok\r\n250 ok\r\n"))
		if err := expectLine(r, "DATA"); err != nil {
			return err
		}
		w.Write([]byte("354 go\r\n"))
		for _, want := range []string{"Subject: x", "", "..", "."} {
			if err := expectLine(r, want); err != nil {
				return err
			}
		}
		w.Write([]byte("250 2.0.0 queued\r\n"))
		if err := expectLine(r, "QUIT"); err != nil {
			return err
		}
		w.Write([]byte("221 bye\r\n"))
		return nil
	})
	o := options(t, addr, nil)
	o.Pipelining = true
	res, err := Send(context.Background(), o, []byte("Subject: x\r\n\r\n.\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Reply.Code != 250 || res.Reply.Enhanced != "2.0.0" {
		t.Errorf("reply %v", res.Reply)
	}
}

// AUTH LOGIN (when PLAIN is not offered): the user and password go base64
// in their own lines, and the transcript masks the password in every form.
func TestAuthLoginMasksThePassword(t *testing.T) {
	const pass = "pa55\"word"
	addr := serveOnce(t, func(r *bufio.Reader, w net.Conn) error {
		w.Write([]byte("220 fake ESMTP\r\n"))
		r.ReadString('\n')
		w.Write([]byte("250-fake\r\n250 AUTH=LOGIN CRAM-MD5\r\n"))
		steps := []struct{ want, reply string }{
			{"AUTH LOGIN", "334 VXNlcm5hbWU6"},
			{base64.StdEncoding.EncodeToString([]byte("alice")), "334 UGFzc3dvcmQ6"},
			{base64.StdEncoding.EncodeToString([]byte(pass)), "535 5.7.8 no"},
			{"QUIT", "221 bye"},
		}
		for _, s := range steps {
			if err := expectLine(r, s.want); err != nil {
				return err
			}
			w.Write([]byte(s.reply + "\r\n"))
		}
		return nil
	})
	var out bytes.Buffer
	o := options(t, addr, transcript.New(&out, true))
	o.User, o.Password = "alice", pass
	_, err := Send(context.Background(), o, []byte("Subject: x\r\n\r\n"))
	if session.StageOf(err) != session.Auth || !strings.Contains(err.Error(), "535") {
		t.Errorf("err %v: want the AUTH stage with the 535", err)
	}
	for _, leak := range []string{pass, base64.StdEncoding.EncodeToString([]byte(pass))} {
		if strings.Contains(out.String(), leak) {
			t.Errorf("%q in the transcript:\n%s", leak, out.String())
		}
		if err != nil && strings.Contains(err.Error(), leak) {
			t.Errorf("%q in the error: %v", leak, err)
		}
	}
	if !strings.Contains(out.String(), "C: ****\n") || !strings.Contains(out.String(), "C: YWxpY2U=\n") {
		t.Errorf("transcript:\n%s", out.String())
	}
}

// The message arrives byte for byte (dot stuffing undone by the server),
// with BODY=8BITMIME when asked for; a server without 8BITMIME fails EHLO.
func TestSendDotStuffingAnd8BitMIME(t *testing.T) {
	msg := []byte("Subject: dots\r\n\r\n.\r\n..\r\n.x\r\n\xc3\xa9t\xc3\xa9\r\n")
	fake := smtptest.Start(t, smtptest.Config{Extensions: []string{"8BITMIME"}})
	o := options(t, fake.Addr(), nil)
	o.EightBitMIME = true
	if _, err := Send(context.Background(), o, msg); err != nil {
		t.Fatal(err)
	}
	got := fake.Messages()
	if len(got) != 1 || !bytes.Equal(got[0].Data, msg) || got[0].From != "FROM:<alice@example.org> BODY=8BITMIME" || len(got[0].Rcpts) != 2 {
		t.Fatalf("received %+v", got)
	}

	plain := smtptest.Start(t, smtptest.Config{})
	o = options(t, plain.Addr(), nil)
	o.EightBitMIME = true
	if _, err := Send(context.Background(), o, msg); session.StageOf(err) != session.EHLO {
		t.Errorf("8BITMIME not offered: %v, want the EHLO stage", err)
	}
	if plain.CountCommands("MAIL") != 0 {
		t.Error("MAIL sent after the EHLO stage failed")
	}
}

// A server that does not know EHLO gets HELO (RFC 5321 §3.2).
func TestHeloFallback(t *testing.T) {
	fake := smtptest.Start(t, smtptest.Config{Reply: smtptest.Refuse("EHLO", "", "502 5.5.2 what")})
	if _, err := Send(context.Background(), options(t, fake.Addr(), nil), []byte("Subject: x\r\n\r\nhi\r\n")); err != nil {
		t.Fatal(err)
	}
	if fake.CountCommands("HELO ") != 1 || len(fake.Messages()) != 1 {
		t.Errorf("commands %q", fake.Commands())
	}
}
