package reference

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// The SMTP cases of TestHostileInput.

const oneMiB = 1 << 20

func smtpLongLine(h *hostileRun) {
	w := smtpReady(h)
	sent := w.sendAsync("NOOP " + strings.Repeat("A", oneMiB) + "\r\n")
	h.underway()
	w.reply(500, "5.5.2")
	if err := <-sent; err != nil {
		h.Fatalf("sending the line: %v", err)
	}
	w.cmd("NOOP", 250, "2.0.0")
}

func smtpLongLineNoEnd(h *hostileRun) {
	w := smtpReady(h)
	w.send(strings.Repeat("A", oneMiB))
	h.underway()
	// RFC 5321 §4.5.3.2: the server may close after its timeout, with 421.
	w.reply(421, "4.4.2")
	if !w.closed() {
		h.Error("connection open after the 421")
	}
}

func smtpNULCommands(h *hostileRun) {
	w := smtpReady(h)
	h.underway()
	for _, line := range []string{"NOOP\x00", "EHLO a\x00b.example", "MAIL FROM:<a\x00@example.net>", "RCPT TO:<bob\x00@example.org>", "\x00"} {
		w.cmd(line, 500, "5.5.2")
	}
	w.cmd("MAIL FROM:<carol@example.net>", 250, "")
	w.cmd("RCPT TO:<bob@example.org>\x00", 500, "5.5.2")
	w.cmd("RSET", 250, "")
}

func smtpNULData(h *hostileRun) {
	w := smtpReady(h)
	h.underway()
	w.cmd("MAIL FROM:<carol@example.net>", 250, "")
	w.cmd("RCPT TO:<bob@example.org>", 250, "")
	w.cmd("DATA", 354, "")
	// RFC 2045 §2.7 and §2.8: neither 7bit nor 8bit data holds NUL; and
	// IMAP cannot send it back in a literal (RFC 9051 §4.3).
	w.send("Subject: nul\r\n\r\nbefore\x00after\r\n.\r\n")
	w.reply(554, "5.6.0")
	w.cmd("NOOP", 250, "")
	if n := bobMessages(h); n != 0 {
		h.Errorf("%d messages delivered", n)
	}
}

func smtpBareLineEndCommands(h *hostileRun) {
	w := smtpReady(h)
	h.underway()
	// RFC 5321 §2.3.8: only CRLF ends a line.
	w.send("NOOP\n")
	w.reply(500, "5.5.2")
	w.cmd("NO\rOP", 500, "5.5.2")
	w.cmd("RSET\r", 500, "5.5.2")
	w.cmd("NOOP", 250, "")
}

func smtpBareLineEndData(h *hostileRun) {
	w := smtpReady(h)
	h.underway()
	for _, body := range []string{
		"Subject: lf\r\n\r\nbare\nLF\r\n.\r\n",
		"Subject: cr\r\n\r\nbare\rCR\r\n.\r\n",
		// SMTP smuggling: a server that took <LF>.<LF> as the end of data
		// would run the MAIL after it as a second transaction.
		"Subject: smuggle\r\n\r\nx\n.\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nsmuggled\r\n.\r\n",
	} {
		w.cmd("MAIL FROM:<carol@example.net>", 250, "")
		w.cmd("RCPT TO:<bob@example.org>", 250, "")
		w.cmd("DATA", 354, "")
		w.send(body)
		// One reply for the whole message: the smuggled commands are data.
		w.reply(554, "5.6.0")
	}
	w.cmd("NOOP", 250, "2.0.0")
	if n := bobMessages(h); n != 0 {
		h.Errorf("%d messages delivered", n)
	}
}

func smtpNonASCII(h *hostileRun) {
	w := smtpReady(h)
	h.underway()
	w.cmd("EHLO h\xc3\xa9.example", 500, "5.5.2")
	w.cmd("NOOP caf\xc3\xa9", 500, "5.5.2")
	w.cmd("\xff\xfe", 500, "5.5.2")
	// No SMTPUTF8 (RFC 6531 §3.7.1): 553 5.6.7 for the addresses.
	w.cmd("MAIL FROM:<j\xc3\xb6@example.net>", 553, "5.6.7")
	w.cmd("MAIL FROM:<carol@example.net>", 250, "")
	w.cmd("RCPT TO:<b\xc3\xb6b@example.org>", 553, "5.6.7")
	w.cmd("RSET", 250, "")
}

func smtpOverSize(h *hostileRun) {
	w := smtpReady(h)
	h.underway()
	// RFC 1870 §6: a declared size over the limit is refused at MAIL.
	w.cmd(fmt.Sprintf("MAIL FROM:<carol@example.net> SIZE=%d", hostileMaxMessage+1), 552, "5.3.4")
	w.cmd("MAIL FROM:<carol@example.net> SIZE=99999999999999999999", 552, "5.3.4")
	// Undeclared: read to the end, then refused.
	w.cmd("MAIL FROM:<carol@example.net>", 250, "")
	w.cmd("RCPT TO:<bob@example.org>", 250, "")
	w.cmd("DATA", 354, "")
	line := strings.Repeat("x", 998) + "\r\n"
	sent := w.sendAsync("Subject: big\r\n\r\n" + strings.Repeat(line, 4*hostileMaxMessage/len(line)) + ".\r\n")
	w.reply(552, "5.3.4")
	if err := <-sent; err != nil {
		h.Fatal(err)
	}
	w.cmd("NOOP", 250, "")
	if n := bobMessages(h); n != 0 {
		h.Errorf("%d messages delivered", n)
	}
}

func smtpManyRcpts(h *hostileRun) {
	w := smtpReady(h)
	w.cmd("MAIL FROM:<carol@example.net>", 250, "")
	const n = 10000
	sent := w.sendAsync(strings.Repeat("RCPT TO:<bob@example.org>\r\n", n))
	h.underway()
	// RFC 5321 §4.5.3.1.8 and §4.5.3.1.10: at least 100 must be taken;
	// more get 452.
	for i := 0; i < n; i++ {
		if i < 100 {
			w.reply(250, "2.1.5")
		} else {
			w.reply(452, "4.5.3")
		}
	}
	if err := <-sent; err != nil {
		h.Fatal(err)
	}
	w.cmd("DATA", 354, "")
	w.send("Subject: many\r\n\r\nonce\r\n.\r\n")
	w.reply(250, "")
	if got := bobMessages(h); got != 1 {
		h.Errorf("bob has %d messages, want 1", got)
	}
}

func smtpPipelinedBurst(h *hostileRun) {
	w := smtpReady(h)
	const n = 10000
	sent := w.sendAsync(strings.Repeat("NOOP\r\n", n))
	h.underway()
	for i := 0; i < n; i++ {
		w.reply(250, "2.0.0")
	}
	if err := <-sent; err != nil {
		h.Fatal(err)
	}
	w.cmd("QUIT", 221, "")
}

func smtpAuthGarbage(h *hostileRun) {
	w := smtpReady(h)
	h.underway()
	w.cmd("AUTH PLAIN !!!not*base64", 501, "5.5.2")
	w.cmd("AUTH PLAIN "+base64Of("no NULs here"), 501, "5.5.2")
	w.cmd("AUTH LOGIN", 334, "")
	w.cmd("%%%", 501, "5.5.2")
	w.cmd("AUTH PLAIN", 334, "")
	w.cmd("=====", 501, "5.5.2")
	w.cmd("AUTH PLAIN "+plainAuth("bob", "pw"), 235, "2.7.0")
}

func base64Of(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func smtpSlowlorisCommand(h *hostileRun) {
	w := dialWire(h.T, h.srv.SMTPAddr())
	w.reply(220, "")
	h.underway()
	if !trickle(w, "EHLO client.example\r\n", time.Second) {
		h.Fatal("a client sending one octet per second was still served when the line was complete")
	}
	w.reply(421, "4.4.2")
}

func smtpSlowlorisData(h *hostileRun) {
	w := smtpReady(h)
	w.cmd("MAIL FROM:<carol@example.net>", 250, "")
	w.cmd("RCPT TO:<bob@example.org>", 250, "")
	w.cmd("DATA", 354, "")
	h.underway()
	// Each line is complete in 3 seconds, so a deadline per line would not
	// end this; DataTimeout does.
	if !trickle(w, strings.Repeat("a\r\n", 6), time.Second) {
		h.Fatal("a message trickled one octet per second was still being read after 18s")
	}
	w.reply(421, "4.4.2")
	if n := bobMessages(h); n != 0 {
		h.Errorf("%d messages delivered", n)
	}
}

// trickle sends s but its last octet, one octet per interval, and reports
// whether the server cut it off meanwhile: closed the connection or
// answered (the caller reads the answer). The input is never complete, and
// no wait between octets is long enough for an idle timeout: only a
// deadline over the whole line or message ends it.
func trickle(w *wire, s string, interval time.Duration) (cutOff bool) {
	for i := 0; i < len(s)-1; i++ {
		w.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := w.conn.Write([]byte{s[i]}); err != nil {
			return true
		}
		w.conn.SetReadDeadline(time.Now().Add(interval))
		if _, err := w.r.Peek(1); err == nil || !isTimeout(err) {
			return true // the server answered (its 421) or closed
		}
	}
	return false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func smtpConnectionFlood(h *hostileRun) {
	const attempts = 2000
	before := heapInUse()
	conns := make([]net.Conn, 0, attempts)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < attempts; i++ {
		c, err := net.DialTimeout("tcp", h.srv.SMTPAddr(), 5*time.Second)
		if err != nil {
			h.Fatalf("connection %d: %v", i+1, err)
		}
		conns = append(conns, c)
	}
	// Read each first line concurrently: 200 greetings, the rest refusals.
	firsts := make([]string, attempts)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i, c := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			buf := make([]byte, 64)
			n, _ := c.Read(buf)
			firsts[i] = string(buf[:n])
		}()
	}
	wg.Wait()
	// Measured with every connection still open: the 200 sessions are
	// live, the refused ones gone.
	growth := int64(heapInUse()) - int64(before)
	greeted, refused := 0, 0
	for i, l := range firsts {
		switch {
		case strings.HasPrefix(l, "220 "):
			greeted++
		case strings.HasPrefix(l, "421 4.3.2 "):
			refused++
		default:
			h.Errorf("connection %d: first line %q", i+1, l)
		}
	}
	if greeted != hostileSMTPConns || refused != attempts-hostileSMTPConns {
		h.Errorf("%d greeted and %d refused, want %d and %d", greeted, refused, hostileSMTPConns, attempts-hostileSMTPConns)
	}
	// Each session costs its 16 KiB read and 4 KiB write buffers and a
	// little more: 200 cost about 4 MiB. Had each of the 2,000 got a
	// session, they would cost over 40 MiB.
	const heapBound = 24 << 20
	if growth > heapBound {
		h.Errorf("heap grew by %d MiB with %d connections open, bound %d MiB", growth>>20, attempts, heapBound>>20)
	}
	h.Logf("heap growth with %d connections open (%d sessions): %.1f MiB", attempts, greeted, float64(growth)/(1<<20))
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	// The well-behaved session needs a free slot: it runs once the flood
	// has gone (lineserver frees each slot when its session ends).
}

func smtpStartTLSInjection(h *hostileRun) {
	w := smtpReady(h)
	h.underway()
	// RFC 3207 §5 and CVE-2011-0411: what follows STARTTLS in the same
	// packet was sent in clear and must not run as if it came over TLS.
	w.send("STARTTLS\r\nMAIL FROM:<injected@example.net>\r\nRCPT TO:<bob@example.org>\r\n")
	w.reply(220, "")
	if err := w.startTLS(h.clientTLS); err != nil {
		h.Fatal(err)
	}
	// Were the injected lines run, their replies (503: no EHLO yet over
	// TLS) would come before the NOOP's.
	w.cmd("NOOP", 250, "2.0.0")
	w.cmd("EHLO client.example", 250, "")
	w.cmd("MAIL FROM:<carol@example.net>", 250, "")
	w.cmd("RSET", 250, "")
}

func smtpAuthBeforeTLS(h *hostileRun) {
	w := dialWire(h.T, h.srv.SMTPAddr())
	w.reply(220, "")
	h.underway()
	r := w.cmd("EHLO client.example", 250, "")
	if strings.Contains(r.Text(), "AUTH") {
		h.Errorf("AUTH offered without TLS: %q", r.Lines)
	}
	// RFC 4954 §4 and RFC 8314: no password in clear.
	w.cmd("AUTH PLAIN "+plainAuth("bob", "pw"), 538, "5.7.11")
	w.cmd("AUTH LOGIN", 538, "5.7.11")
	w.cmd("STARTTLS", 220, "")
	if err := w.startTLS(h.clientTLS); err != nil {
		h.Fatal(err)
	}
	if r := w.cmd("EHLO client.example", 250, ""); !strings.Contains(r.Text(), "AUTH PLAIN LOGIN") {
		h.Errorf("AUTH not offered under TLS: %q", r.Lines)
	}
	w.cmd("AUTH PLAIN "+plainAuth("bob", "pw"), 235, "2.7.0")
}

func smtpOpenRelay(h *hostileRun) {
	w := smtpReady(h)
	h.underway()
	w.cmd("MAIL FROM:<carol@example.net>", 250, "")
	for _, rc := range []struct {
		rcpt     string
		code     int
		enhanced string
	}{
		{"<x@foreign.example>", 554, "5.7.1"},
		{"<postmaster@foreign.example>", 554, "5.7.1"},
		{"<X@FOREIGN.EXAMPLE>", 554, "5.7.1"},
		// RFC 5321 §4.1.1.3: a source route is accepted and ignored; the
		// final mailbox decides, here a foreign one.
		{"<@mx.example.org:x@foreign.example>", 554, "5.7.1"},
		{"<@mx.example.org,@example.org:x@foreign.example>", 554, "5.7.1"},
		// RFC 2505 §2.6: the % hack is a local part here: no such user.
		{"<x%foreign.example@example.org>", 550, "5.1.1"},
		{"<bob%foreign.example@example.org>", 550, "5.1.1"},
		{"<x%foreign.example@[127.0.0.1]>", 554, "5.7.1"},
		// Quoted local parts holding an address.
		{`<"x@foreign.example"@example.org>`, 550, "5.1.1"},
		{`<"bob@foreign.example"@example.org>`, 550, "5.1.1"},
		{`<"x@foreign.example">`, 501, "5.1.3"},
		// Two @ outside quotes, the UUCP bang path, an address literal.
		{"<x@foreign.example@example.org>", 501, "5.1.3"},
		{"<foreign.example!x@example.org>", 550, "5.1.1"},
		{"<x@[127.0.0.1]>", 554, "5.7.1"},
		{"<x@[IPv6:::1]>", 554, "5.7.1"},
		{"<bob@example.org.>", 501, "5.1.3"},
	} {
		w.cmd("RCPT TO:"+rc.rcpt, rc.code, rc.enhanced)
	}
	// A source route through a foreign host to a local user is local mail.
	w.cmd("RCPT TO:<@foreign.example:bob@example.org>", 250, "")
	w.cmd("RSET", 250, "")
	if n := h.srv.Queue().Len(); n != 0 {
		h.Errorf("%d messages queued for relay without authentication", n)
	}
	// The same client, once authenticated, may relay: the refusals above
	// are about authentication, not a relay that never works.
	w.cmd("AUTH PLAIN "+plainAuth("bob", "pw"), 235, "")
	w.cmd("MAIL FROM:<bob@example.org>", 250, "")
	w.cmd("RCPT TO:<x@foreign.example>", 250, "")
	w.cmd("RSET", 250, "")
}

func smtpPathTraversal(h *hostileRun) {
	w := smtpReady(h)
	h.underway()
	e := h.escape
	for _, user := range []string{"../../" + e, "/tmp/" + e, e + "/../../x", "bob/../" + e, "..", `..\..\` + e, "INBOX/../" + e} {
		w.cmd("AUTH PLAIN "+plainAuth(user, "pw"), 535, "5.7.8")
	}
	// A NUL in the user name makes the PLAIN response malformed.
	w.cmd("AUTH PLAIN "+plainAuth("bob\x00"+e, "pw"), 501, "5.5.2")
	w.cmd("MAIL FROM:<carol@example.net>", 250, "")
	for _, rc := range []struct {
		rcpt string
		code int
	}{
		{`<"../../` + e + `"@example.org>`, 550},
		{`<"/tmp/` + e + `"@example.org>`, 550},
		{"<../../" + e + "@example.org>", 501},
		{"<" + e + "/../../x@example.org>", 501},
		{"<bob/../" + e + "@example.org>", 501},
		{"<" + e + "/x@example.org>", 550},
		{"<..@example.org>", 501},
	} {
		w.cmd("RCPT TO:"+rc.rcpt, rc.code, "")
	}
	w.cmd("RSET", 250, "")
}
