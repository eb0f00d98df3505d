package smtpclient

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/mailcheck/mailcheck/bounds"
	"github.com/mailcheck/mailcheck/internal/smtptest"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

func dial(t *testing.T, addr string, o Options) *Client {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	c, err := Dial(context.Background(), addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Greeting(); err != nil {
		t.Fatal(err)
	}
	return c
}

// A whole session: the message arrives byte for byte (the dot stuffing
// exists on the wire only), pipelined envelope, every phase timed, every
// line in the transcript.
func TestSessionDeliversByteExact(t *testing.T) {
	fake := smtptest.Start(t, smtptest.Config{Extensions: []string{"PIPELINING", "8BITMIME", "SIZE 1000"}})
	var phases []Phase
	var sent, received int
	c := dial(t, fake.Addr(), Options{
		Timing: func(p Phase, d time.Duration) { phases = append(phases, p) },
		Transcript: func(e Event, b []byte) {
			if e == Received {
				received++
			} else {
				sent++
			}
		},
	})
	caps, _, err := c.Hello("client.example")
	if err != nil {
		t.Fatal(err)
	}
	if limit, ok := caps.Size(); !ok || limit != 1000 || !caps.Pipelining() || !caps.EightBitMIME() || caps.StartTLS() {
		t.Fatalf("caps %+v", caps)
	}
	replies, err := c.Pipeline(MailCommand("a@example.org", "BODY=8BITMIME"), RcptCommand("b@example.org"), RcptCommand("c@example.org"))
	if err != nil || len(replies) != 3 {
		t.Fatalf("pipeline: %v %v", replies, err)
	}
	msg := []byte("Subject: dots\r\n\r\n.\r\n..\r\n.x\r\nno final line end")
	if _, err := c.Data(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Message(msg[:20], msg[20:]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	got := fake.Messages()
	if len(got) != 1 || !bytes.Equal(got[0].Data, append(msg, '\r', '\n')) || len(got[0].Rcpts) != 2 || got[0].From != "FROM:<a@example.org> BODY=8BITMIME" {
		t.Fatalf("received %+v", got)
	}
	want := []Phase{PhaseConnect, PhaseGreeting, PhaseEHLO, PhaseData, PhaseDataEnd, PhaseQuit}
	if !slicesEqual(phases, want) {
		t.Errorf("phases %v, want %v", phases, want)
	}
	if sent == 0 || received < 8 {
		t.Errorf("transcript: %d writes, %d reply lines", sent, received)
	}
}

func slicesEqual(a, b []Phase) bool {
	return strings.Join(phaseStrings(a), ",") == strings.Join(phaseStrings(b), ",")
}

func phaseStrings(ps []Phase) []string {
	var s []string
	for _, p := range ps {
		s = append(s, string(p))
	}
	return s
}

// Keywords are case-insensitive (RFC 5321 §2.4) and the legacy "AUTH="
// form counts as AUTH.
func TestParseCaps(t *testing.T) {
	r := &smtpreply.Reply{Code: 250, Lines: []string{"mx.example greets you", "8bitmime", "Auth=LOGIN PLAIN", "AUTH plain CRAM-MD5", "size", "smtputf8", "Chunking", "DSN", "X-ODD  two  spaces"}}
	c := ParseCaps(r)
	if c.Domain != "mx.example greets you" || !c.EightBitMIME() || !c.SMTPUTF8() || !c.Chunking() || !c.DSN() || c.Pipelining() {
		t.Errorf("caps %+v", c)
	}
	if got := strings.Join(c.AuthMechanisms(), " "); got != "LOGIN PLAIN CRAM-MD5" {
		t.Errorf("AUTH mechanisms %q", got)
	}
	if limit, ok := c.Size(); !ok || limit != 0 {
		t.Errorf("SIZE without a parameter: %d %v, want no fixed limit", limit, ok)
	}
	if kw := c.Keywords(); kw["X-ODD"] != " two  spaces" || kw["AUTH=LOGIN"] != "PLAIN" {
		t.Errorf("keywords as sent: %q", kw)
	}
	var none *Caps
	if none.Has("SIZE") || none.Pipelining() {
		t.Error("nil caps have a keyword")
	}
}

// A reply that never ends is refused at the policy's bound, naming it.
func TestReplyWithinBounds(t *testing.T) {
	fake := smtptest.Start(t, smtptest.Config{Hangup: func(verb, _ string) smtptest.Hangup {
		if verb == "EHLO" {
			return smtptest.HangupFlood
		}
		return smtptest.HangupNone
	}})
	c := dial(t, fake.Addr(), Options{Limits: bounds.Policy{ReplyLines: 20}})
	_, _, err := c.Hello("client.example")
	var ex *bounds.ExceededError
	if !errors.As(err, &ex) || ex.What != "reply lines" || !errors.Is(err, smtpreply.ErrMalformedReply) {
		t.Fatalf("err %v, want the reply lines bound", err)
	}
	if c.Usable() {
		t.Error("usable after a refused reply")
	}
}

// HELO only when asked for and EHLO was refused permanently (RFC 5321
// §3.2).
func TestHELOFallback(t *testing.T) {
	fake := smtptest.Start(t, smtptest.Config{Reply: smtptest.Refuse("EHLO", "", "502 5.5.2 what")})
	c := dial(t, fake.Addr(), Options{})
	if _, r, err := c.Hello("client.example"); r == nil || r.Code != 502 || err == nil {
		t.Fatalf("without fallback: %v %v", r, err)
	}
	c = dial(t, fake.Addr(), Options{HELOFallback: true})
	caps, _, err := c.Hello("client.example")
	if err != nil || caps.Pipelining() || fake.CountCommands("HELO ") != 1 {
		t.Fatalf("fallback: %+v %v, commands %q", caps, err, fake.Commands())
	}
}

// scripted runs a server that answers each expected line with its reply,
// on a pipe, and returns the client end.
func scripted(t *testing.T, greeting string, steps [][2]string) net.Conn {
	t.Helper()
	client, server := net.Pipe()
	done := make(chan error, 1)
	go func() {
		defer server.Close()
		server.SetDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(server)
		server.Write([]byte(greeting + "\r\n"))
		for _, s := range steps {
			line, err := r.ReadString('\n')
			if err != nil {
				done <- err
				return
			}
			if got := strings.TrimRight(line, "\r\n"); got != s[0] {
				done <- errors.New("got " + got + ", want " + s[0])
				return
			}
			server.Write([]byte(s[1] + "\r\n"))
		}
		done <- nil
	}()
	t.Cleanup(func() {
		client.Close()
		if err := <-done; err != nil {
			t.Error("server:", err)
		}
	})
	return client
}

// AUTH LOGIN answers the prompts in turn without an initial response;
// PLAIN sends its response on the AUTH line (RFC 4954 §4).
func TestAuth(t *testing.T) {
	conn := scripted(t, "220 hi", [][2]string{
		{"EHLO c", "250-hi\r\n250 AUTH=LOGIN PLAIN"},
		{"AUTH LOGIN", "334 VXNlcm5hbWU6"},
		{"YWxpY2U=", "334 UGFzc3dvcmQ6"},
		{"c2VjcmV0", "235 2.7.0 ok"},
		{"AUTH PLAIN AGFsaWNlAHNlY3JldA==", "535 5.7.8 no"},
	})
	c := New(conn, Options{Timeout: 5 * time.Second})
	if _, err := c.Greeting(); err != nil {
		t.Fatal(err)
	}
	caps, _, err := c.Hello("c")
	if err != nil || !caps.HasAuth("login") {
		t.Fatalf("%+v %v", caps, err)
	}
	if _, err := c.Auth(LoginClient("alice", "secret")); err != nil {
		t.Fatal(err)
	}
	r, err := c.Auth(sasl.NewPlainClient("", "alice", "secret"))
	var refusal *smtpreply.Reply
	if !errors.As(err, &refusal) || r.Code != 535 || r.Enhanced != "5.7.8" {
		t.Fatalf("PLAIN refused: %v %v", r, err)
	}
}

// STARTTLS: the handshake, then no capabilities until EHLO again (RFC
// 3207 §4.2), and the second EHLO inside TLS.
func TestStartTLS(t *testing.T) {
	fake := smtptest.Start(t, smtptest.Config{TLS: &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}})
	c := dial(t, fake.Addr(), Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
	caps, _, err := c.Hello("c")
	if err != nil || !caps.StartTLS() {
		t.Fatalf("%+v %v", caps, err)
	}
	if _, err := c.StartTLS(); err != nil {
		t.Fatal(err)
	}
	if c.Caps() != nil || !c.TLS() {
		t.Fatalf("after STARTTLS: caps %+v, TLS %v", c.Caps(), c.TLS())
	}
	if caps, _, err = c.Hello("c"); err != nil || caps.StartTLS() {
		t.Fatalf("inside TLS: %+v %v", caps, err)
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// The scanner reads a wanted one-line reply without allocating, and any
// other reply whole.
func TestReplyScanner(t *testing.T) {
	stream := strings.Repeat("250 2.1.0 ok\r\n", 200) + "550-5.1.1 no\r\n550 5.1.1 such user\r\n250 ok\r\n"
	s := NewReplyScanner(bufio.NewReader(strings.NewReader(stream)), bounds.Policy{})
	if allocs := testing.AllocsPerRun(100, func() {
		if err := s.Expect(250); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("%v allocations per wanted reply", allocs)
	}
	for s.Expect(250) == nil {
	}
	if err := s.Expect(250); err != nil {
		t.Fatalf("after the refusal: %v", err)
	}
}

// Without pipelining, a refused MAIL ends the envelope: no RCPT goes out
// outside a transaction (RFC 5321 §4.1.1.2).
func TestEnvelopeStopsAtARefusedMail(t *testing.T) {
	fake := smtptest.Start(t, smtptest.Config{Reply: smtptest.Refuse("MAIL", "", "550 5.7.1 no")})
	c := dial(t, fake.Addr(), Options{})
	if _, _, err := c.Hello("c"); err != nil {
		t.Fatal(err)
	}
	replies, err := c.Envelope(false, "a@example.org", []string{"SIZE=10"}, []string{"b@example.org", "c@example.org"})
	if err != nil || len(replies) != 1 || replies[0].Code != 550 || fake.CountCommands("RCPT") != 0 {
		t.Fatalf("replies %v, err %v, commands %q", replies, err, fake.Commands())
	}
	if _, err := c.Envelope(true, "a@example.org", nil, nil); !errors.Is(err, ErrNoPipelining) {
		t.Errorf("pipelined without PIPELINING: %v", err)
	}
}

// The end of a watched context interrupts a wait for the server.
func TestWatchInterruptsAWait(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	go io.Copy(io.Discard, server) // takes the command, never answers
	c := New(client, Options{Timeout: 30 * time.Second})
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer c.Watch(ctx)()
	done := make(chan error, 1)
	go func() {
		_, err := c.Noop()
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || c.Usable() {
		t.Fatalf("err %v, usable %v: want the context's end", err, c.Usable())
	}
}

// A reader of the caller's reads every reply in place of the core's.
func TestReadReplyHook(t *testing.T) {
	conn := scripted(t, "220 hi", [][2]string{{"NOOP", "250 ok"}})
	var read int
	var c *Client
	c = New(conn, Options{Timeout: 5 * time.Second, ReadReply: func() (*smtpreply.Reply, error) {
		read++
		return smtpreply.ReadReply(c.link.(*netLink).r, true, nil)
	}})
	if _, err := c.Greeting(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Noop(); err != nil || read != 2 {
		t.Fatalf("err %v, %d replies read by the hook", err, read)
	}
}
