package reference

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The POP3 cases of TestHostileInput.

func pop3LongLine(h *hostileRun) {
	w := dialWire(h.T, h.srv.Addr("pop3"))
	w.expectPrefix("+OK")
	sent := w.sendAsync("USER " + strings.Repeat("A", oneMiB) + "\r\n")
	h.underway()
	// RFC 2449 §4: lines up to 255 octets; a longer one is refused whole.
	w.expectPrefix("-ERR line too long")
	if err := <-sent; err != nil {
		h.Fatal(err)
	}
	w.send("CAPA\r\n")
	w.expectPrefix("+OK")
}

func pop3BadOctets(h *hostileRun) {
	w := dialWire(h.T, h.srv.Addr("pop3"))
	w.expectPrefix("+OK")
	h.underway()
	// RFC 1939 §3: printable ASCII, lines ended by CRLF.
	for _, line := range []string{"USER bob\x00\r\n", "CAPA\n", "USER b\xc3\xb6b\r\n", "US\rER bob\r\n", "\x00\r\n"} {
		w.send(line)
		w.expectPrefix("-ERR")
	}
	// PASS right after a refused USER is out of sequence, whatever it holds.
	w.send("PASS pw\r\n")
	w.expectPrefix("-ERR")
	w.send("USER bob\r\n")
	w.expectPrefix("+OK")
	w.send("PASS pw\r\n")
	w.expectPrefix("+OK")
	w.send("QUIT\r\n")
	w.expectPrefix("+OK")
}

func pop3PipelinedBurst(h *hostileRun) {
	w := pop3Login(h, "bob")
	const n = 10000
	sent := w.sendAsync(strings.Repeat("NOOP\r\n", n))
	h.underway()
	for i := 0; i < n; i++ {
		w.expectPrefix("+OK")
	}
	if err := <-sent; err != nil {
		h.Fatal(err)
	}
	w.send("QUIT\r\n")
	w.expectPrefix("+OK")
}

func pop3Slowloris(h *hostileRun) {
	w := dialWire(h.T, h.srv.Addr("pop3"))
	w.expectPrefix("+OK")
	h.underway()
	if !trickle(w, "USER bob.example\r\n", time.Second) {
		h.Fatal("a client sending one octet per second was still served when the line was complete")
	}
	// RFC 1939 §3: the autologout closes without a response.
	w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if rest, err := io.ReadAll(w.r); err != nil || len(rest) > 0 {
		h.Errorf("after the autologout: %q, %v; want the connection closed without a word", rest, err)
	}
}

func pop3PathTraversal(h *hostileRun) {
	w := dialWire(h.T, h.srv.Addr("pop3"))
	w.expectPrefix("+OK")
	h.underway()
	e := h.escape
	for _, user := range []string{"../../" + e, "/tmp/" + e, "INBOX/../../" + e, "bob/../" + e, "..", `..\..\` + e} {
		w.send("USER " + user + "\r\n")
		w.expectPrefix("+OK") // USER tells nothing
		w.send("PASS pw\r\n")
		w.expectPrefix("-ERR [AUTH]")
	}
}

func pop3PassBeforeTLS(h *hostileRun) {
	w := dialWire(h.T, h.srv.Addr("pop3"))
	w.expectPrefix("+OK")
	h.underway()
	capa := pop3Capa(w)
	if capa["USER"] || !capa["STLS"] {
		h.Errorf("CAPA before STLS: %v; want STLS and no USER (RFC 2595 §4)", capa)
	}
	w.send("USER bob\r\n")
	w.expectPrefix("-ERR [AUTH]")
	w.send("PASS pw\r\n")
	w.expectPrefix("-ERR [AUTH]")
	w.send("STLS\r\n")
	w.expectPrefix("+OK")
	if err := w.startTLS(h.clientTLS); err != nil {
		h.Fatal(err)
	}
	w.send("USER bob\r\nPASS pw\r\n")
	w.expectPrefix("+OK")
	w.expectPrefix("+OK")
}

// pop3Capa reads the CAPA list.
func pop3Capa(w *wire) map[string]bool {
	w.t.Helper()
	w.send("CAPA\r\n")
	w.expectPrefix("+OK")
	caps := make(map[string]bool)
	for i := 0; i < 100; i++ {
		l := w.line()
		if l == "." {
			return caps
		}
		name, _, _ := strings.Cut(l, " ")
		caps[name] = true
	}
	w.t.Fatal("CAPA list without end")
	return nil
}

func pop3RetrDuringDelivery(h *hostileRun) {
	const before, during = 10, 20
	body := func(i int) string {
		return fmt.Sprintf("Subject: m%d\r\n\r\n%s\r\n", i, strings.Repeat(fmt.Sprintf("line of message %d\r\n", i), 50+i))
	}
	for i := 0; i < before; i++ {
		deliverTo(h.T, h.srv, body(i))
	}
	w := pop3Login(h, "bob")
	listing := pop3List(w)
	if len(listing) != before {
		h.Fatalf("LIST: %d messages, want %d", len(listing), before)
	}
	// Deliver more over SMTP while RETR runs over and over.
	var wg sync.WaitGroup
	errs := make(chan error, during)
	for i := before; i < before+during; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := deliverPolitelyTo(h.srv.SMTPAddr(), "bob@example.org", body(i)); err != nil {
				errs <- err
			}
		}()
	}
	h.underway()
	for round := 0; round < 3; round++ {
		for n := 1; n <= before; n++ {
			got := pop3Retr(w, n)
			if len(got) != listing[n] {
				h.Errorf("RETR %d: %d octets, LIST said %d", n, len(got), listing[n])
			}
			// The messages were delivered in order, so message n is
			// body(n-1) behind the Received header.
			if !strings.HasSuffix(got, body(n-1)) {
				h.Errorf("RETR %d: not message %d whole: ends %q", n, n-1, got[max(0, len(got)-60):])
			}
		}
		// The listing is fixed at login (RFC 1939 §5: the maildrop's
		// numbering never changes within a session).
		if l := pop3List(w); len(l) != before {
			h.Errorf("round %d: LIST has %d messages during delivery, want %d", round, len(l), before)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		h.Errorf("delivery during RETR: %v", err)
	}
	w.send("QUIT\r\n")
	w.expectPrefix("+OK")
	w2 := pop3Login(h, "bob")
	if l := pop3List(w2); len(l) != before+during {
		h.Errorf("a new session lists %d messages, want %d", len(l), before+during)
	}
	w2.send("QUIT\r\n")
	w2.expectPrefix("+OK")
}

// pop3List returns the message sizes by number.
func pop3List(w *wire) map[int]int {
	w.t.Helper()
	w.send("LIST\r\n")
	w.expectPrefix("+OK")
	sizes := make(map[int]int)
	for i := 0; i < 10000; i++ {
		l := w.line()
		if l == "." {
			return sizes
		}
		num, size, _ := strings.Cut(l, " ")
		n, _ := strconv.Atoi(num)
		sizes[n], _ = strconv.Atoi(size)
	}
	w.t.Fatal("LIST without end")
	return nil
}

// pop3Retr returns message n with its byte-stuffing undone.
func pop3Retr(w *wire, n int) string {
	w.t.Helper()
	w.send(fmt.Sprintf("RETR %d\r\n", n))
	w.expectPrefix("+OK")
	var b strings.Builder
	for i := 0; i < 100000; i++ {
		l := w.line()
		if l == "." {
			return b.String()
		}
		b.WriteString(strings.TrimPrefix(l, "."))
		b.WriteString("\r\n")
	}
	w.t.Fatal("RETR without end")
	return ""
}
