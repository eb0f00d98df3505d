package relay

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/smtptest"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

func testOptions() Options {
	return Options{
		Hostname:       "client.test",
		ConnectTimeout: 2 * time.Second,
		CommandTimeout: 2 * time.Second,
	}
}

func dialFake(t *testing.T, s *smtptest.Server) *Client {
	t.Helper()
	c, err := Dial(context.Background(), Destination{Domain: "example.net", Hosts: []string{s.Addr()}}, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// lines turns text lines into CRLF-terminated chunks, as the queue hands
// them over.
func lines(ls ...string) [][]byte {
	var msg [][]byte
	for _, l := range ls {
		msg = append(msg, []byte(l+"\r\n"))
	}
	return msg
}

func TestSendDeliversByteExact(t *testing.T) {
	for _, pipelining := range []bool{false, true} {
		name := "plain"
		var ext []string
		if pipelining {
			name, ext = "pipelining", []string{"PIPELINING"}
		}
		t.Run(name, func(t *testing.T) {
			s := smtptest.Start(t, smtptest.Config{Extensions: ext})
			c := dialFake(t, s)
			msg := lines("Subject: dots", "", ".", "..", ".x", "x.", "", ". leading space", "last")
			perRcpt, err := c.Send(context.Background(), "a@example.org", []string{"b@example.net"}, false, msg)
			if err != nil || perRcpt[0] != nil {
				t.Fatalf("Send = %v, %v", perRcpt, err)
			}
			if err := c.Quit(); err != nil {
				t.Fatal(err)
			}
			got := s.Messages()
			if len(got) != 1 {
				t.Fatalf("server received %d messages", len(got))
			}
			if want := bytes.Join(msg, nil); !bytes.Equal(got[0].Data, want) {
				t.Errorf("received %q, want %q", got[0].Data, want)
			}
		})
	}
}

func TestSendSeveralTransactionsOneSession(t *testing.T) {
	s := smtptest.Start(t, smtptest.Config{Extensions: []string{"PIPELINING"}})
	c := dialFake(t, s)
	for i := range 3 {
		if _, err := c.Send(context.Background(), "a@example.org", []string{"b@example.net"}, false, lines("n: "+string(rune('0'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	c.Quit()
	if s.Conns() != 1 || s.CountCommands("EHLO") != 1 || len(s.Messages()) != 3 {
		t.Errorf("conns=%d EHLO=%d messages=%d, want 1, 1, 3", s.Conns(), s.CountCommands("EHLO"), len(s.Messages()))
	}
}

func TestMailCommandParameters(t *testing.T) {
	tests := []struct {
		name       string
		extensions []string
		from       string
		body8bit   bool
		want       string
	}{
		{"no extensions", nil, "a@example.org", false, "MAIL FROM:<a@example.org>"},
		{"null sender", nil, "", false, "MAIL FROM:<>"},
		{"SIZE", []string{"SIZE 1000"}, "a@example.org", false, "MAIL FROM:<a@example.org> SIZE=4"},
		{"SIZE without limit", []string{"SIZE"}, "a@example.org", false, "MAIL FROM:<a@example.org> SIZE=4"},
		{"8BITMIME, 7-bit body", []string{"8BITMIME"}, "a@example.org", false, "MAIL FROM:<a@example.org>"},
		{"8BITMIME, 8-bit body", []string{"8BITMIME", "SIZE 0"}, "a@example.org", true, "MAIL FROM:<a@example.org> SIZE=4 BODY=8BITMIME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.Start(t, smtptest.Config{Extensions: tt.extensions})
			c := dialFake(t, s)
			if _, err := c.Send(context.Background(), tt.from, []string{"b@example.net"}, tt.body8bit, lines("hi")); err != nil {
				t.Fatal(err)
			}
			c.Quit()
			cmds := s.Commands()
			if i := slices.IndexFunc(cmds, func(c string) bool { return strings.HasPrefix(c, "MAIL") }); i < 0 || cmds[i] != tt.want {
				t.Errorf("commands %q, want %q", cmds, tt.want)
			}
		})
	}
}

func TestSendRefusesLocally(t *testing.T) {
	tests := []struct {
		name       string
		extensions []string
		body8bit   bool
		wantCode   int
		wantESC    string
	}{
		// RFC 6152 §3: no downgrade, the message is returned instead.
		{"8-bit without 8BITMIME", nil, true, 554, "5.6.3"},
		// RFC 1870 §6: over the fixed limit.
		{"over SIZE", []string{"SIZE 3"}, false, 552, "5.3.4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.Start(t, smtptest.Config{Extensions: tt.extensions})
			c := dialFake(t, s)
			_, err := c.Send(context.Background(), "a@example.org", []string{"b@example.net"}, tt.body8bit, lines("hi"))
			var reply *smtpreply.Reply
			if !errors.As(err, &reply) || reply.Code != tt.wantCode || reply.Enhanced != tt.wantESC {
				t.Fatalf("err = %v, want %d %s", err, tt.wantCode, tt.wantESC)
			}
			if !IsPermanent(err) || !c.Usable() {
				t.Errorf("IsPermanent=%v Usable=%v", IsPermanent(err), c.Usable())
			}
			c.Quit()
			if n := s.CountCommands("MAIL"); n != 0 {
				t.Errorf("server saw %d MAIL commands, want none", n)
			}
		})
	}
}

func TestSendRefusals(t *testing.T) {
	tests := []struct {
		name        string
		extensions  []string
		reply       smtptest.ReplyFunc
		rcpts       []string
		wantErr     string // prefix of the transaction error, "" for none
		wantPerRcpt []string
		wantRSET    bool
		wantData    bool
	}{
		{
			name:  "one recipient refused",
			reply: smtptest.Refuse("RCPT", "<bad@example.net>", "550 5.1.1 no such user"),
			rcpts: []string{"good@example.net", "bad@example.net"}, wantPerRcpt: []string{"", "550 5.1.1 no such user"},
			wantData: true,
		},
		{
			name: "every recipient refused", extensions: []string{"PIPELINING"},
			reply: smtptest.Refuse("RCPT", "", "550 5.1.1 no such user"),
			rcpts: []string{"x@example.net", "y@example.net"}, wantPerRcpt: []string{"550 5.1.1 no such user", "550 5.1.1 no such user"},
			wantRSET: true,
		},
		{
			name:  "MAIL refused",
			reply: smtptest.Refuse("MAIL", "", "550 5.7.1 go away"),
			rcpts: []string{"x@example.net"}, wantErr: "550 5.7.1 go away", wantRSET: true,
		},
		{
			name: "MAIL refused, pipelined", extensions: []string{"PIPELINING"},
			reply: func(verb, arg string) string {
				switch verb {
				case "MAIL":
					return "451 4.3.0 try later"
				case "RCPT":
					return "503 5.5.1 need MAIL"
				}
				return ""
			},
			rcpts: []string{"x@example.net", "y@example.net"}, wantErr: "451 4.3.0 try later", wantRSET: true,
		},
		{
			name:  "DATA refused",
			reply: smtptest.Refuse("DATA", "", "451 4.3.0 not now"),
			rcpts: []string{"x@example.net"}, wantErr: "451 4.3.0 not now", wantPerRcpt: []string{""}, wantRSET: true,
		},
		{
			name:  "end of data refused",
			reply: smtptest.Refuse(".", "", "554 5.6.0 content rejected"),
			rcpts: []string{"x@example.net"}, wantErr: "554 5.6.0 content rejected", wantPerRcpt: []string{""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.Start(t, smtptest.Config{
				Extensions: append([]string{"ENHANCEDSTATUSCODES"}, tt.extensions...),
				Reply:      tt.reply,
			})
			c := dialFake(t, s)
			perRcpt, err := c.Send(context.Background(), "a@example.org", tt.rcpts, false, lines("hi"))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			var gotPerRcpt []string
			for _, e := range perRcpt {
				if e == nil {
					gotPerRcpt = append(gotPerRcpt, "")
				} else {
					gotPerRcpt = append(gotPerRcpt, e.Error())
				}
			}
			if !slices.Equal(gotPerRcpt, tt.wantPerRcpt) {
				t.Errorf("perRcpt = %q, want %q", gotPerRcpt, tt.wantPerRcpt)
			}
			if got := s.CountCommands("RSET") > 0; got != tt.wantRSET {
				t.Errorf("RSET sent = %v, want %v", got, tt.wantRSET)
			}
			if got := len(s.Messages()) > 0; got != tt.wantData {
				t.Errorf("message accepted = %v, want %v", got, tt.wantData)
			}
			// The session must carry the next transaction.
			s.SetReply(nil)
			if _, err := c.Send(context.Background(), "a@example.org", []string{"z@example.net"}, false, lines("again")); err != nil {
				t.Fatalf("second transaction: %v", err)
			}
			c.Quit()
		})
	}
}

func TestHELOFallback(t *testing.T) {
	s := smtptest.Start(t, smtptest.Config{
		Extensions: []string{"PIPELINING", "8BITMIME"},
		Reply:      smtptest.Refuse("EHLO", "", "502 5.5.2 what?"),
	})
	c := dialFake(t, s)
	if c.Extensions() != (Extensions{}) {
		t.Errorf("extensions after HELO = %+v, want none", c.Extensions())
	}
	if _, err := c.Send(context.Background(), "a@example.org", []string{"b@example.net"}, false, lines("hi")); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	if s.CountCommands("HELO client.test") != 1 {
		t.Errorf("commands %q, want one HELO", s.Commands())
	}
}

func TestSessionClosedBy421(t *testing.T) {
	s := smtptest.Start(t, smtptest.Config{Reply: smtptest.Refuse("MAIL", "", "421 4.3.2 shutting down")})
	c := dialFake(t, s)
	_, err := c.Send(context.Background(), "a@example.org", []string{"b@example.net"}, false, lines("hi"))
	if err == nil || IsPermanent(err) || c.Usable() {
		t.Fatalf("err=%v usable=%v, want a temporary error and a closed session", err, c.Usable())
	}
	if _, err := c.Send(context.Background(), "a@example.org", []string{"b@example.net"}, false, lines("hi")); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("second Send = %v, want ErrSessionClosed", err)
	}
}

func TestCommandTimeout(t *testing.T) {
	// A server that takes the data and never answers the final dot.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.Write([]byte("220 hi\r\n"))
		buf := make([]byte, 4096)
		for _, reply := range []string{"250 hi", "250 ok", "250 ok", "354 go"} {
			if _, err := conn.Read(buf); err != nil {
				return
			}
			conn.Write([]byte(reply + "\r\n"))
		}
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	}()
	opts := testOptions()
	opts.CommandTimeout = 200 * time.Millisecond
	c, err := Dial(context.Background(), Destination{Hosts: []string{ln.Addr().String()}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, err = c.Send(context.Background(), "a@example.org", []string{"b@example.net"}, false, lines("hi"))
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Send took %v", d)
	}
	if c.Usable() {
		t.Error("session usable after a timeout")
	}
}

func TestDialTriesHostsInOrder(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	refusing := smtptest.Start(t, smtptest.Config{Reply: smtptest.Refuse("GREETING", "", "554 5.3.2 no service")})
	good := smtptest.Start(t, smtptest.Config{})

	tests := []struct {
		name          string
		hosts         []string
		wantHost      string
		wantPermanent bool // when wantHost is ""
	}{
		{"first host down", []string{closedAddr, good.Addr()}, good.Addr(), false},
		{"first host refuses", []string{refusing.Addr(), good.Addr()}, good.Addr(), false},
		{"only host refuses", []string{refusing.Addr()}, "", true},
		// A temporary failure anywhere wins over a permanent one: some
		// host may still take the mail.
		{"refuses and down", []string{refusing.Addr(), closedAddr}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Dial(context.Background(), Destination{Domain: "example.net", Hosts: tt.hosts}, testOptions())
			if tt.wantHost != "" {
				if err != nil {
					t.Fatal(err)
				}
				defer c.Quit()
				if c.Host() != tt.wantHost {
					t.Errorf("connected to %s, want %s", c.Host(), tt.wantHost)
				}
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if IsPermanent(err) != tt.wantPermanent {
				t.Errorf("err = %v, permanent %v, want %v", err, IsPermanent(err), tt.wantPermanent)
			}
		})
	}
	if n := refusing.CountCommands("QUIT"); n == 0 {
		t.Error("no QUIT after a 554 greeting (RFC 5321 §3.1)")
	}
}

func TestSTARTTLS(t *testing.T) {
	s := smtptest.Start(t, smtptest.Config{
		Extensions: []string{"8BITMIME"},
		TLS:        &tls.Config{Certificates: []tls.Certificate{selfSignedCert(t)}},
	})
	c := dialFake(t, s)
	if !c.TLS() || !c.Extensions().EightBitMIME || c.Extensions().StartTLS {
		t.Fatalf("TLS=%v extensions=%+v", c.TLS(), c.Extensions())
	}
	msg := lines("Subject: secret", "", ".")
	if _, err := c.Send(context.Background(), "a@example.org", []string{"b@example.net"}, true, msg); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	if n := s.CountCommands("EHLO"); n != 2 {
		t.Errorf("EHLO sent %d times, want 2 (RFC 3207 §4.2)", n)
	}
	if got := s.Messages(); len(got) != 1 || !bytes.Equal(got[0].Data, bytes.Join(msg, nil)) {
		t.Errorf("messages = %q", got)
	}
}

func TestSTARTTLSHandshakeFailureFallsBackToCleartext(t *testing.T) {
	// A server config without certificates fails every handshake.
	s := smtptest.Start(t, smtptest.Config{TLS: &tls.Config{}})
	c := dialFake(t, s)
	if c.TLS() {
		t.Fatal("TLS after a failed handshake")
	}
	if _, err := c.Send(context.Background(), "a@example.org", []string{"b@example.net"}, false, lines("hi")); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	if s.Conns() != 2 {
		t.Errorf("connections = %d, want 2", s.Conns())
	}
}

func selfSignedCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "fake.test"},
		DNSNames:     []string{"fake.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
