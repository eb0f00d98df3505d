package smtpserver

import (
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/reference/certs"
)

func TestGreetingAndEhlo(t *testing.T) {
	_, _, addr := startServer(t, Options{})
	c := dial(t, addr)
	g := c.expect(220)
	if !strings.HasPrefix(g.Lines[0], "mx.example.org ") {
		t.Errorf("greeting %q does not start with the server's domain (RFC 5321 §4.2)", g.Lines[0])
	}
	if g.Enhanced != "" {
		t.Errorf("greeting carries an enhanced code: %q", g)
	}
	r := c.cmd("EHLO client.example", 250)
	want := []string{"PIPELINING", "SIZE 33554432", "8BITMIME", "ENHANCEDSTATUSCODES"}
	for _, w := range want {
		if !strings.Contains(r.Text(), w) {
			t.Errorf("EHLO reply lacks %s:\n%s", w, r.Text())
		}
	}
	for _, absent := range []string{"STARTTLS", "AUTH", "SMTPUTF8"} {
		if strings.Contains(r.Text(), absent) {
			t.Errorf("EHLO offers %s, which this configuration does not support:\n%s", absent, r.Text())
		}
	}
	h := c.cmd("HELO client.example", 250)
	if len(h.Lines) != 1 || h.Lines[0] != "mx.example.org" {
		t.Errorf("HELO reply %q", h)
	}
	c.cmd("QUIT", 221)
	if !c.closed() {
		t.Error("connection still open after QUIT")
	}
}

// TestCommandReplies runs one command in a given state and checks the reply
// code and enhanced code: the state machine and parser, table-driven.
func TestCommandReplies(t *testing.T) {
	tests := []struct {
		name     string
		setup    []string // commands that must succeed first (2xx)
		cmd      string
		code     int
		enhanced string
	}{
		{"MAIL before EHLO", nil, "MAIL FROM:<a@example.com>", 503, "5.5.1"},
		{"RCPT before MAIL", []string{"EHLO c.example"}, "RCPT TO:<bob@example.org>", 503, "5.5.1"},
		{"DATA before MAIL", []string{"EHLO c.example"}, "DATA", 503, "5.5.1"},
		{"DATA before RCPT", []string{"EHLO c.example", "MAIL FROM:<a@example.com>"}, "DATA", 503, "5.5.1"},
		{"nested MAIL", []string{"EHLO c.example", "MAIL FROM:<a@example.com>"}, "MAIL FROM:<a@example.com>", 503, "5.5.1"},
		{"unknown command", nil, "FOO", 500, "5.5.2"},
		{"unimplemented EXPN", []string{"EHLO c.example"}, "EXPN list", 502, "5.5.1"},
		{"VRFY", []string{"EHLO c.example"}, "VRFY bob", 252, "2.5.0"},
		{"VRFY without argument", nil, "VRFY", 501, "5.5.4"},
		{"NOOP", nil, "NOOP", 250, "2.0.0"},
		{"NOOP with argument", nil, "NOOP whatever", 250, "2.0.0"},
		{"HELP", nil, "HELP", 214, "2.0.0"},
		{"RSET with argument", nil, "RSET x", 501, "5.5.4"},
		{"QUIT with argument", nil, "QUIT now", 501, "5.5.4"},
		{"DATA with argument", []string{"EHLO c.example", "MAIL FROM:<a@example.com>", "RCPT TO:<bob@example.org>"}, "DATA x", 501, "5.5.4"},
		{"EHLO without argument", nil, "EHLO", 501, "5.5.4"},
		{"EHLO bad domain", nil, "EHLO bad_name", 501, "5.5.4"},
		{"EHLO address literal", nil, "EHLO [127.0.0.1]", 250, ""},
		{"lower-case verbs", []string{"ehlo c.example"}, "mail from:<a@example.com>", 250, "2.1.0"},
		{"null reverse-path", []string{"EHLO c.example"}, "MAIL FROM:<>", 250, "2.1.0"},
		{"space after colon", []string{"EHLO c.example"}, "MAIL FROM: <a@example.com>", 501, "5.5.4"},
		{"no angle brackets", []string{"EHLO c.example"}, "MAIL FROM:a@example.com", 501, "5.1.7"},
		{"bad sender syntax", []string{"EHLO c.example"}, "MAIL FROM:<a@@example.com>", 501, "5.1.7"},
		{"source route ignored", []string{"EHLO c.example"}, "MAIL FROM:<@relay.example:a@example.com>", 250, "2.1.0"},
		{"quoted local part", []string{"EHLO c.example"}, `MAIL FROM:<"a b"@example.com>`, 250, "2.1.0"},
		{"non-ASCII sender", []string{"EHLO c.example"}, "MAIL FROM:<j\xc3\xb6rg@example.com>", 553, "5.6.7"},
		{"8-bit octets in a command", nil, "NOOP \xff", 500, "5.5.2"},
		{"unknown MAIL parameter", []string{"EHLO c.example"}, "MAIL FROM:<a@example.com> FOO=1", 555, "5.5.4"},
		{"SIZE over the limit", []string{"EHLO c.example"}, "MAIL FROM:<a@example.com> SIZE=999999999999", 552, "5.3.4"},
		{"SIZE within the limit", []string{"EHLO c.example"}, "MAIL FROM:<a@example.com> SIZE=1000", 250, "2.1.0"},
		{"SIZE not a number", []string{"EHLO c.example"}, "MAIL FROM:<a@example.com> SIZE=big", 501, "5.5.4"},
		{"SIZE of 20 digits, beyond int64", []string{"EHLO c.example"}, "MAIL FROM:<a@example.com> SIZE=99999999999999999999", 552, "5.3.4"},
		{"SIZE of 21 digits", []string{"EHLO c.example"}, "MAIL FROM:<a@example.com> SIZE=100000000000000000000", 501, "5.5.4"},
		{"SIZE with a sign", []string{"EHLO c.example"}, "MAIL FROM:<a@example.com> SIZE=+5", 501, "5.5.4"},
		{"BODY=8BITMIME", []string{"EHLO c.example"}, "MAIL FROM:<a@example.com> BODY=8BITMIME", 250, "2.1.0"},
		{"BODY=BINARYMIME", []string{"EHLO c.example"}, "MAIL FROM:<a@example.com> BODY=BINARYMIME", 501, "5.5.4"},
		{"parameter twice", []string{"EHLO c.example"}, "MAIL FROM:<a@example.com> SIZE=1 SIZE=2", 501, "5.5.4"},
		{"parameters after HELO", []string{"HELO c.example"}, "MAIL FROM:<a@example.com> BODY=8BITMIME", 555, "5.5.4"},
		{"null forward-path", []string{"EHLO c.example", "MAIL FROM:<a@example.com>"}, "RCPT TO:<>", 501, "5.1.3"},
		{"postmaster without domain", []string{"EHLO c.example", "MAIL FROM:<a@example.com>"}, "RCPT TO:<Postmaster>", 250, "2.1.5"},
		{"postmaster at local domain", []string{"EHLO c.example", "MAIL FROM:<a@example.com>"}, "RCPT TO:<postmaster@example.org>", 250, "2.1.5"},
		{"unknown local user", []string{"EHLO c.example", "MAIL FROM:<a@example.com>"}, "RCPT TO:<nobody@example.org>", 550, "5.1.1"},
		{"relay without AUTH", []string{"EHLO c.example", "MAIL FROM:<a@example.com>"}, "RCPT TO:<x@elsewhere.example>", 554, "5.7.1"},
		{"RCPT parameter", []string{"EHLO c.example", "MAIL FROM:<a@example.com>"}, "RCPT TO:<bob@example.org> NOTIFY=NEVER", 555, "5.5.4"},
		{"RCPT space after colon", []string{"EHLO c.example", "MAIL FROM:<a@example.com>"}, "RCPT TO: <bob@example.org>", 501, "5.5.4"},
		{"local part too long", []string{"EHLO c.example", "MAIL FROM:<a@example.com>"}, "RCPT TO:<" + strings.Repeat("x", 65) + "@example.org>", 501, "5.1.3"},
		{"AUTH without TLS", []string{"EHLO c.example"}, "AUTH PLAIN AGFsaWNlAHNlY3JldA==", 538, "5.7.11"},
		{"AUTH before EHLO", nil, "AUTH PLAIN AGFsaWNlAHNlY3JldA==", 503, "5.5.1"},
		{"STARTTLS not configured", []string{"EHLO c.example"}, "STARTTLS", 502, "5.5.1"},
		{"command line of 512 octets", nil, "NOOP " + strings.Repeat("x", 512-7), 250, "2.0.0"},
		{"command line of 513 octets", nil, "NOOP " + strings.Repeat("x", 513-7), 500, "5.5.2"},
	}
	_, _, addr := startServer(t, Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := greeted(t, addr)
			for _, s := range tc.setup {
				if r := c.cmd(s, 250); !r.Positive() {
					t.Fatalf("setup %q: %s", s, r)
				}
			}
			r := c.cmd(tc.cmd, tc.code)
			if r.Enhanced != tc.enhanced {
				t.Errorf("%q: enhanced code %q, want %q (reply %q)", tc.cmd, r.Enhanced, tc.enhanced, r)
			}
			// Every error leaves the session usable.
			c.cmd("NOOP", 250)
		})
	}
}

func TestBareLFCommandRefused(t *testing.T) {
	_, _, addr := startServer(t, Options{})
	c := greeted(t, addr)
	c.raw("NOOP\n")
	c.expect(500)
	c.raw("NOOP\r\n")
	c.expect(250)
}

func TestOverlongCommandLineKeepsSession(t *testing.T) {
	_, _, addr := startServer(t, Options{})
	c := greeted(t, addr)
	c.raw("NOOP " + strings.Repeat("y", 40000) + "\r\n")
	r := c.expect(500)
	if !strings.Contains(r.Text(), "too long") {
		t.Errorf("reply %q does not say the line is too long", r)
	}
	c.cmd("EHLO c.example", 250)
}

func TestTransactionsAndDotUnstuffing(t *testing.T) {
	_, be, addr := startServer(t, Options{})
	c := ehlod(t, addr)
	bodies := []string{
		"Subject: one\r\n\r\nplain\r\n",
		"Subject: two\r\n\r\n.\r\n..\r\n.x\r\nend . of line\r\n",
		"", // empty message
	}
	for _, body := range bodies {
		var wire strings.Builder
		for _, line := range strings.SplitAfter(body, "\r\n") {
			if strings.HasPrefix(line, ".") {
				wire.WriteString(".")
			}
			wire.WriteString(line)
		}
		r := c.send("a@example.com", "bob@example.org", wire.String()+".\r\n")
		if r.Code != 250 || r.Enhanced != "2.0.0" {
			t.Fatalf("end of data: %s", r)
		}
	}
	got := be.messages()
	if len(got) != len(bodies) {
		t.Fatalf("%d messages delivered, want %d", len(got), len(bodies))
	}
	for i, body := range bodies {
		if !strings.HasPrefix(got[i].data, "Received: from client.example ([127.0.0.1])\r\n\tby mx.example.org (mailcheck) with ESMTP id ") {
			t.Errorf("message %d lacks the Received header:\n%s", i, got[i].data)
		}
		if !strings.HasSuffix(got[i].data, ";\r\n\t"+dateOf(got[i].data)+"\r\n"+body) {
			t.Errorf("message %d: body not byte-exact after the trace header: %q", i, got[i].data)
		}
	}
}

// dateOf returns the date line of the Received header.
func dateOf(msg string) string {
	_, after, _ := strings.Cut(msg, ";\r\n\t")
	date, _, _ := strings.Cut(after, "\r\n")
	return date
}

func TestDataRefusals(t *testing.T) {
	tests := []struct {
		name     string
		mail     string
		data     string
		code     int
		enhanced string
	}{
		{"bare LF line end", "MAIL FROM:<a@example.com>", "a\nb\r\n.\r\n", 554, "5.6.0"},
		{"bare CR", "MAIL FROM:<a@example.com>", "a\rb\r\n.\r\n", 554, "5.6.0"},
		{"bare-LF dot does not end data", "MAIL FROM:<a@example.com>", "a\r\n\n.\n\r\nMAIL FROM:<x@example.com>\r\n.\r\n", 554, "5.6.0"},
		{"8-bit without BODY=8BITMIME", "MAIL FROM:<a@example.com>", "caf\xc3\xa9\r\n.\r\n", 554, "5.6.1"},
		{"8-bit with BODY=8BITMIME", "MAIL FROM:<a@example.com> BODY=8BITMIME", "caf\xc3\xa9\r\n.\r\n", 250, "2.0.0"},
		{"text line of 1000 octets", "MAIL FROM:<a@example.com>", strings.Repeat("x", 998) + "\r\n.\r\n", 250, "2.0.0"},
		{"text line of 1001 octets", "MAIL FROM:<a@example.com>", strings.Repeat("x", 999) + "\r\n.\r\n", 554, "5.6.0"},
		{"very long line", "MAIL FROM:<a@example.com>", strings.Repeat("x", 70000) + "\r\n.\r\n", 554, "5.6.0"},
		{"stuffed 1000-octet line", "MAIL FROM:<a@example.com>", "." + strings.Repeat(".", 998) + "\r\n.\r\n", 250, "2.0.0"},
		{"over the size limit", "MAIL FROM:<a@example.com>", strings.Repeat(strings.Repeat("z", 98)+"\r\n", 30) + ".\r\n", 552, "5.3.4"},
	}
	_, be, addr := startServer(t, Options{MaxMessageBytes: 2000})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(be.messages())
			c := ehlod(t, addr)
			c.cmd(tc.mail, 250)
			c.cmd("RCPT TO:<bob@example.org>", 250)
			c.cmd("DATA", 354)
			c.raw(tc.data)
			r := c.expect(tc.code)
			if r.Enhanced != tc.enhanced {
				t.Errorf("enhanced %q, want %q", r.Enhanced, tc.enhanced)
			}
			delivered := len(be.messages()) - before
			if (tc.code == 250) != (delivered == 1) {
				t.Errorf("%d messages delivered after %d", delivered, tc.code)
			}
			// The session goes on, with a fresh transaction.
			c.cmd("RCPT TO:<bob@example.org>", 503)
			if r := c.send("a@example.com", "bob@example.org", "ok\r\n.\r\n"); r.Code != 250 {
				t.Errorf("next transaction: %s", r)
			}
		})
	}
}

// TestMaxTextLine: a raised line limit takes longer lines, stored as
// sent; a limit under the RFC 5321 §4.5.3.1.6 minimum is raised to it.
func TestMaxTextLine(t *testing.T) {
	long := strings.Repeat("y", 4998) + "\r\n"
	srv, be, addr := startServer(t, Options{MaxTextLine: 5000})
	if r := ehlod(t, addr).send("a@example.com", "bob@example.org", long+".\r\n"); r.Code != 250 {
		t.Fatalf("a 5000-octet line under a 5000-octet limit: %s", r)
	}
	if m := be.messages(); len(m) != 1 || !strings.HasSuffix(m[0].data, "\r\n"+long) {
		t.Errorf("stored %d messages, the line not as sent", len(m))
	}
	if r := ehlod(t, addr).send("a@example.com", "bob@example.org", "y"+long+".\r\n"); r.Code != 554 || !strings.Contains(r.Text(), "5000 octets") {
		t.Errorf("a 5001-octet line: %s, want 554 naming the limit", r)
	}
	if got := srv.Options().MaxTextLine; got != 5000 {
		t.Errorf("MaxTextLine %d", got)
	}
	if got := New(&memBackend{}, Options{MaxTextLine: 512}).Options().MaxTextLine; got != 1000 {
		t.Errorf("MaxTextLine 512 became %d, want the RFC minimum 1000", got)
	}
}

func TestEightBitPreserved(t *testing.T) {
	_, be, addr := startServer(t, Options{})
	c := ehlod(t, addr)
	c.cmd("MAIL FROM:<a@example.com> BODY=8BITMIME", 250)
	c.cmd("RCPT TO:<bob@example.org>", 250)
	c.cmd("DATA", 354)
	body := "Subject: x\r\n\r\n\x80\xfe\xff caf\xc3\xa9\r\n"
	c.raw(body + ".\r\n")
	c.expect(250)
	m := be.messages()[0]
	if !strings.HasSuffix(m.data, body) || !m.env.Body8BitMIME {
		t.Errorf("8-bit body altered or flag lost: %q %v", m.data, m.env.Body8BitMIME)
	}
}

func TestPipelining(t *testing.T) {
	_, be, addr := startServer(t, Options{})
	c := greeted(t, addr)
	// RFC 2920: the whole group in one write; a rejected RCPT in the middle
	// must not make the server discard what follows.
	c.raw("EHLO c.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<nobody@example.org>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n")
	for _, want := range []int{250, 250, 550, 250, 250, 354} {
		c.expect(want)
	}
	c.raw("Subject: p\r\n\r\nbody\r\n.\r\nNOOP\r\nMAIL FROM:<b@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
	for _, want := range []int{250, 250, 250, 250, 354} {
		c.expect(want)
	}
	c.raw("second\r\n.\r\nQUIT\r\n")
	c.expect(250)
	c.expect(221)
	msgs := be.messages()
	if len(msgs) != 2 || len(msgs[0].env.Recipients) != 2 {
		t.Fatalf("delivered %+v", msgs)
	}
}

func TestRsetAndEhloResetTransaction(t *testing.T) {
	_, _, addr := startServer(t, Options{})
	c := ehlod(t, addr)
	c.cmd("MAIL FROM:<a@example.com>", 250)
	c.cmd("RCPT TO:<bob@example.org>", 250)
	c.cmd("RSET", 250)
	c.cmd("DATA", 503)
	c.cmd("MAIL FROM:<a@example.com>", 250)
	// RFC 5321 §4.1.4: EHLO in a transaction resets it.
	c.cmd("EHLO c.example", 250)
	c.cmd("RCPT TO:<bob@example.org>", 503)
	c.cmd("MAIL FROM:<a@example.com>", 250)
	c.cmd("NOOP", 250)
	c.cmd("RCPT TO:<bob@example.org>", 250)
}

func TestTooManyRecipients(t *testing.T) {
	_, be, addr := startServer(t, Options{MaxRecipients: 100})
	c := ehlod(t, addr)
	c.cmd("MAIL FROM:<a@example.com>", 250)
	for i := 0; i < 100; i++ {
		c.cmd("RCPT TO:<bob@example.org>", 250)
	}
	r := c.cmd("RCPT TO:<bob@example.org>", 452)
	if r.Enhanced != "4.5.3" {
		t.Errorf("enhanced %q", r.Enhanced)
	}
	c.cmd("DATA", 354)
	c.raw("x\r\n.\r\n")
	c.expect(250)
	if n := len(be.messages()[0].env.Recipients); n != 100 {
		t.Errorf("%d recipients delivered", n)
	}
}

func TestAuth(t *testing.T) {
	_, _, addr := startServer(t, Options{InsecureAuth: true})
	t.Run("EHLO offers AUTH", func(t *testing.T) {
		c := greeted(t, addr)
		if r := c.cmd("EHLO c.example", 250); !strings.Contains(r.Text(), "AUTH PLAIN LOGIN") {
			t.Errorf("EHLO: %s", r.Text())
		}
	})
	t.Run("PLAIN then relay", func(t *testing.T) {
		c := authenticated(t, addr)
		if r := c.cmd("EHLO c.example", 250); strings.Contains(r.Text(), "AUTH") {
			t.Errorf("AUTH still offered after authenticating")
		}
		c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==", 503)
		c.cmd("MAIL FROM:<alice@example.org>", 250)
		c.cmd("RCPT TO:<carol@elsewhere.example>", 250)
	})
	t.Run("PLAIN with a challenge", func(t *testing.T) {
		c := ehlod(t, addr)
		c.cmd("AUTH PLAIN", 334)
		c.cmd("AGFsaWNlAHNlY3JldA==", 235)
	})
	t.Run("LOGIN", func(t *testing.T) {
		c := ehlod(t, addr)
		if r := c.cmd("AUTH LOGIN", 334); r.Lines[0] != "VXNlcm5hbWU6" {
			t.Errorf("challenge %q", r.Lines[0])
		}
		c.cmd("YWxpY2U=", 334)
		c.cmd("c2VjcmV0", 235)
	})
	t.Run("wrong password", func(t *testing.T) {
		c := ehlod(t, addr)
		r := c.cmd("AUTH PLAIN AGFsaWNlAHdyb25n", 535)
		if r.Enhanced != "5.7.8" {
			t.Errorf("enhanced %q", r.Enhanced)
		}
		c.cmd("MAIL FROM:<alice@example.org>", 250)
		c.cmd("RCPT TO:<carol@elsewhere.example>", 554)
	})
	t.Run("cancel", func(t *testing.T) {
		c := ehlod(t, addr)
		c.cmd("AUTH LOGIN", 334)
		c.cmd("*", 501)
		c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==", 235)
	})
	t.Run("bad base64", func(t *testing.T) {
		c := ehlod(t, addr)
		c.cmd("AUTH PLAIN !!!", 501)
	})
	t.Run("unknown mechanism", func(t *testing.T) {
		c := ehlod(t, addr)
		c.cmd("AUTH CRAM-MD5", 504)
	})
	t.Run("inside a transaction", func(t *testing.T) {
		c := ehlod(t, addr)
		c.cmd("MAIL FROM:<a@example.com>", 250)
		c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==", 503)
	})
	t.Run("authorization identity of another user", func(t *testing.T) {
		c := ehlod(t, addr)
		c.cmd("AUTH PLAIN Ym9iAGFsaWNlAHNlY3JldA==", 535)
	})
}

func TestStartTLS(t *testing.T) {
	cfg, err := certs.SelfSigned("mx.example.org")
	if err != nil {
		t.Fatal(err)
	}
	_, be, addr := startServer(t, Options{TLSConfig: cfg})
	t.Run("upgrade resets state", func(t *testing.T) {
		c := greeted(t, addr)
		r := c.cmd("EHLO c.example", 250)
		if !strings.Contains(r.Text(), "STARTTLS") || strings.Contains(r.Text(), "AUTH") {
			t.Fatalf("before TLS: %s", r.Text())
		}
		c.cmd("STARTTLS x", 501)
		c.cmd("STARTTLS", 220)
		c.startTLS()
		c.cmd("MAIL FROM:<a@example.com>", 503)
		r = c.cmd("EHLO c.example", 250)
		if strings.Contains(r.Text(), "STARTTLS") || !strings.Contains(r.Text(), "AUTH PLAIN LOGIN") {
			t.Errorf("after TLS: %s", r.Text())
		}
		c.cmd("STARTTLS", 503)
		c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==", 235)
		r = c.send("alice@example.org", "bob@example.org", "x\r\n.\r\n")
		if r.Code != 250 {
			t.Fatal(r)
		}
		if m := be.messages(); !strings.Contains(m[len(m)-1].data, "with ESMTPSA") {
			t.Errorf("Received header does not say ESMTPSA: %q", m[len(m)-1].data)
		}
	})
	t.Run("plaintext pipelined after STARTTLS is not executed", func(t *testing.T) {
		before := len(be.messages())
		c := ehlod(t, addr)
		c.raw("STARTTLS\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nx\r\n.\r\n")
		c.expect(220)
		c.startTLS()
		// Were the injected commands run, MAIL would now be "nested".
		c.cmd("EHLO c.example", 250)
		c.cmd("MAIL FROM:<a@example.com>", 250)
		c.cmd("RSET", 250)
		if n := len(be.messages()) - before; n != 0 {
			t.Errorf("%d messages delivered from injected plaintext", n)
		}
	})
}

func TestConnectionLimit(t *testing.T) {
	_, _, addr := startServer(t, Options{MaxConnections: 2})
	a, b := greeted(t, addr), greeted(t, addr)
	c := dial(t, addr)
	if r := c.expect(421); r.Enhanced != "4.3.2" {
		t.Errorf("busy reply %s", r)
	}
	if !c.closed() {
		t.Error("busy connection left open")
	}
	a.cmd("QUIT", 221)
	a.closed()
	b.cmd("NOOP", 250)
	// A slot is free again once a session ends.
	deadline := time.Now().Add(5 * time.Second)
	for {
		d := dial(t, addr)
		if d.read().Code == 220 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no slot freed after QUIT")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestIdleTimeout(t *testing.T) {
	_, _, addr := startServer(t, Options{IdleTimeout: 200 * time.Millisecond})
	c := ehlod(t, addr)
	r := c.expect(421)
	if r.Enhanced != "4.4.2" {
		t.Errorf("timeout reply %s", r)
	}
	if !c.closed() {
		t.Error("connection open after idle timeout")
	}
}

func TestShutdownFinishesTransactions(t *testing.T) {
	srv, be, addr := startServer(t, Options{})
	idle := ehlod(t, addr)
	busy := ehlod(t, addr)
	busy.cmd("MAIL FROM:<a@example.com>", 250)
	busy.cmd("RCPT TO:<bob@example.org>", 250)

	done := make(chan error, 1)
	go func() {
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	if r := idle.expect(421); r.Enhanced != "4.3.2" {
		t.Errorf("idle session got %s", r)
	}
	// The transaction in flight completes and is acknowledged.
	busy.cmd("DATA", 354)
	busy.raw("late\r\n.\r\n")
	busy.expect(250)
	busy.expect(421)
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if len(be.messages()) != 1 {
		t.Error("message in flight lost")
	}
	if _, err := dialErr(addr); err == nil {
		t.Error("still accepting after Shutdown")
	}
}

func TestBackendFailureGives451(t *testing.T) {
	_, be, addr := startServer(t, Options{})
	be.fail = errTest
	c := ehlod(t, addr)
	r := c.send("a@example.com", "bob@example.org", "x\r\n.\r\n")
	if r.Code != 451 {
		t.Errorf("got %s, want 451", r)
	}
}
