package reference

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// The IMAP cases of TestHostileInput.

func imapHugeLiteral(h *hostileRun) {
	w := imapLogin(h, "bob")
	before := heapInUse()
	h.underway()
	for i, literal := range []string{"{2147483648}", "{2147483648+}", "{99999999999999}"} {
		tag := fmt.Sprintf("A%d", i)
		w.send(tag + " APPEND INBOX " + literal + "\r\n")
		// RFC 7889 §4 and RFC 9051 §7.1: TOOBIG from the announced size;
		// a synchronizing literal gets no "+" continuation, so the client
		// never sends it.
		resp := w.line()
		if !strings.HasPrefix(resp, tag+" NO [TOOBIG]") {
			h.Fatalf("APPEND %s: %q, want %s NO [TOOBIG]", literal, resp, tag)
		}
	}
	growth := int64(heapInUse()) - int64(before)
	// Nothing of the literal was allocated: a few KiB at most move.
	if growth > 4<<20 {
		h.Errorf("heap grew by %d MiB after refusing a 2 GB literal", growth>>20)
	}
	w.imapCmd("N", "NOOP", "OK")
	_, caps := w.imapCmd("C", "CAPABILITY", "OK")
	if !strings.Contains(strings.Join(caps, " "), fmt.Sprintf("APPENDLIMIT=%d", hostileMaxMessage)) {
		h.Errorf("APPENDLIMIT=%d not advertised: %q", hostileMaxMessage, caps)
	}
	if n := bobMessages(h); n != 0 {
		h.Errorf("%d messages in the INBOX", n)
	}
}

func imapHugeLoginLiteral(h *hostileRun) {
	w := dialWire(h.T, h.srv.Addr("imap"))
	w.expectPrefix("* OK")
	before := heapInUse()
	h.underway()
	// go-imap limits a literal outside APPEND to 4096 octets, but it drops
	// that TOOBIG refusal and reads the next line as the rest of the
	// command (go-imap v2.0.0-beta.8): the client sees BAD for the LOGIN
	// and its next line is swallowed. Nothing is allocated, nobody logs
	// in, and the session goes on.
	w.send("A1 LOGIN {2147483648}\r\nA2 LOGIN bob pw\r\nA3 NOOP\r\n")
	resp, _ := w.imapTagged("A1")
	if !strings.HasPrefix(resp, "A1 NO") && !strings.HasPrefix(resp, "A1 BAD") {
		h.Errorf("LOGIN with a 2 GB literal: %q", resp)
	}
	resp, untagged := w.imapTagged("A3")
	if !strings.HasPrefix(resp, "A3 OK") || slices.ContainsFunc(untagged, func(l string) bool { return strings.HasPrefix(l, "A2 OK") }) {
		h.Errorf("after the 2 GB literal: %q then %q", untagged, resp)
	}
	if growth := int64(heapInUse()) - int64(before); growth > 4<<20 {
		h.Errorf("heap grew by %d MiB", growth>>20)
	}
	// Not logged in by anything above.
	w.imapCmd("S", "SELECT INBOX", "BAD")
	w.imapCmd("L", "LOGIN bob pw", "OK")
}

func imapAuthGarbage(h *hostileRun) {
	w := dialWire(h.T, h.srv.Addr("imap"))
	w.expectPrefix("* OK")
	h.underway()
	// go-imap v2.0.0-beta.8 answers an undecodable initial response with
	// NO [SERVERBUG] (its decode error is not an IMAP error); after a
	// challenge, with BAD.
	w.imapCmd("A", "AUTHENTICATE PLAIN !!!not*base64", "NO")
	w.send("B AUTHENTICATE PLAIN\r\n")
	w.expectPrefix("+")
	w.send("%%%\r\n")
	if resp, _ := w.imapTagged("B"); !strings.HasPrefix(resp, "B BAD") && !strings.HasPrefix(resp, "B NO") {
		h.Errorf("garbage after the challenge: %q", resp)
	}
	w.imapCmd("C", "AUTHENTICATE PLAIN "+base64Of("no NULs here"), "NO")
	w.imapCmd("L", "LOGIN bob pw", "OK")
}

func imapLongLine(h *hostileRun) {
	w := dialWire(h.T, h.srv.Addr("imap"))
	w.expectPrefix("* OK")
	w.imapCmd("L", "LOGIN bob pw", "OK")
	w.sendAsync("A1 NOOP " + strings.Repeat("A", oneMiB) + "\r\n")
	h.underway()
	if !w.closed() {
		h.Error("a 1 MiB command line did not end the session")
	}
}

func imapPathTraversal(h *hostileRun) {
	e := h.escape
	w := dialWire(h.T, h.srv.Addr("imap"))
	w.expectPrefix("* OK")
	h.underway()
	for i, user := range []string{`"../../` + e + `"`, `"/tmp/` + e + `"`, `"INBOX/../../` + e + `"`, `".."`} {
		w.imapCmd(fmt.Sprintf("U%d", i), "LOGIN "+user+" pw", "NO")
	}
	w.imapCmd("L", "LOGIN bob pw", "OK")
	names := []string{
		`"../../` + e + `"`, `"INBOX/../../` + e + `"`, `"/tmp/` + e + `"`, `"/` + e + `"`,
		`"..` + e + `"`, `"INBOX..` + e + `"`, `"` + e + `/.."`, `"~/` + e + `"`, `"..\\..\\` + e + `"`,
		`"INBOX.` + e + `/../../x"`,
	}
	n := 0
	tag := func() string { n++; return fmt.Sprintf("P%d", n) }
	refused := func(cmd string) {
		h.Helper()
		w.send(tag() + " " + cmd + "\r\n")
		resp, _ := w.imapTagged(fmt.Sprintf("P%d", n))
		if !strings.HasPrefix(resp, fmt.Sprintf("P%d NO", n)) && !strings.HasPrefix(resp, fmt.Sprintf("P%d BAD", n)) {
			h.Errorf("%q: %q, want NO or BAD", cmd, resp)
		}
	}
	for _, name := range names {
		refused("CREATE " + name)
		refused("SELECT " + name)
		refused("EXAMINE " + name)
		refused("STATUS " + name + " (MESSAGES)")
		refused("RENAME INBOX " + name)
		refused("DELETE " + name)
		refused("SUBSCRIBE " + name)
		w.send(tag() + " APPEND " + name + " {5+}\r\nhello\r\n")
		resp, _ := w.imapTagged(fmt.Sprintf("P%d", n))
		if !strings.HasPrefix(resp, fmt.Sprintf("P%d NO", n)) && !strings.HasPrefix(resp, fmt.Sprintf("P%d BAD", n)) {
			h.Errorf("APPEND %q: %q, want NO or BAD", name, resp)
		}
	}
	// RENAME of a real mailbox to a traversal name.
	w.imapCmd("R1", "CREATE real", "OK")
	refused(`RENAME real "../../` + e + `"`)
	refused(`RENAME real "/tmp/` + e + `"`)
	w.imapCmd("Z", "LOGOUT", "OK")

	// A NUL cannot be quoted, but a literal carries it. go-imap refuses it
	// as invalid modified UTF-7 (NO [SERVERBUG]) and then loses its place
	// in the input and closes the connection: each try gets its own.
	nul := fmt.Sprintf("{%d+}\r\na\x00%s", len(e)+2, e)
	for _, cmd := range []string{"CREATE " + nul, "SELECT " + nul, "RENAME INBOX " + nul, "APPEND " + nul + " {5+}\r\nhello"} {
		w := imapLogin(h, "bob")
		w.send("N " + cmd + "\r\n")
		w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		l, err := w.r.ReadString('\n')
		if err == nil && !strings.HasPrefix(l, "N NO") && !strings.HasPrefix(l, "N BAD") {
			h.Errorf("%q: %q, want NO, BAD or the connection closed", cmd, l)
		}
	}
}

func imapLoginBeforeTLS(h *hostileRun) {
	w := dialWire(h.T, h.srv.Addr("imap"))
	greeting := w.expectPrefix("* OK")
	h.underway()
	// RFC 9051 §6.2.3: LOGINDISABLED until TLS.
	if !strings.Contains(greeting, "LOGINDISABLED") || strings.Contains(greeting, "AUTH=PLAIN") {
		h.Errorf("greeting %q: want LOGINDISABLED and no AUTH=PLAIN", greeting)
	}
	w.imapCmd("A", "LOGIN bob pw", "NO [PRIVACYREQUIRED]")
	w.imapCmd("B", "AUTHENTICATE PLAIN "+plainAuth("bob", "pw"), "NO [PRIVACYREQUIRED]")
	w.imapCmd("C", "STARTTLS", "OK")
	if err := w.startTLS(h.clientTLS); err != nil {
		h.Fatal(err)
	}
	w.imapCmd("D", "LOGIN bob pw", "OK")
}

func imapStartTLSInjection(h *hostileRun) {
	w := dialWire(h.T, h.srv.Addr("imap"))
	w.expectPrefix("* OK")
	h.underway()
	// RFC 9051 §6.2.1 and CVE-2011-0411: the plaintext after STARTTLS must
	// not run as though it came over TLS. go-imap feeds it to the TLS
	// handshake instead, which fails on it.
	w.send("A STARTTLS\r\nB LOGIN bob pw\r\n")
	w.expectPrefix("A OK")
	if err := w.startTLS(h.clientTLS); err == nil {
		w.send("C NOOP\r\n")
		w.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if l, err := w.r.ReadString('\n'); err == nil {
			h.Errorf("session went on over TLS after injected plaintext: %q", l)
		}
	}
}

func imapConnectionFlood(h *hostileRun) {
	const attempts = 2 * hostileIMAPConns
	conns := make([]net.Conn, 0, attempts)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < attempts; i++ {
		c, err := net.DialTimeout("tcp", h.srv.Addr("imap"), 5*time.Second)
		if err != nil {
			h.Fatalf("connection %d: %v", i+1, err)
		}
		conns = append(conns, c)
	}
	firsts := make([]string, attempts)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			buf := make([]byte, 256)
			n, _ := c.Read(buf)
			firsts[i] = string(buf[:n])
		}()
	}
	wg.Wait()
	greeted, refused := 0, 0
	for i, l := range firsts {
		switch {
		case strings.HasPrefix(l, "* OK"):
			greeted++
		case strings.HasPrefix(l, "* BYE [UNAVAILABLE]"):
			refused++
		default:
			h.Errorf("connection %d: first line %q", i+1, l)
		}
	}
	if greeted != hostileIMAPConns || refused != attempts-hostileIMAPConns {
		h.Errorf("%d greeted and %d refused, want %d and %d", greeted, refused, hostileIMAPConns, attempts-hostileIMAPConns)
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	// The well-behaved IMAP session needs a free slot: slots are given
	// back as the sessions end, which takes a moment after the close.
	waitFor(h.T, 10*time.Second, "IMAP slots freed", func() bool {
		c, err := net.DialTimeout("tcp", h.srv.Addr("imap"), 5*time.Second)
		if err != nil {
			return false
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		return strings.HasPrefix(string(buf[:n]), "* OK")
	})
}
