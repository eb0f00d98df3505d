package pop3server

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func size(i int) int { return len(aliceMessages[i-1].data) }

func totalSize() int {
	n := 0
	for _, m := range aliceMessages {
		n += len(m.data)
	}
	return n
}

func TestGreetingAndQuit(t *testing.T) {
	_, _, addr := startServer(t, Options{})
	c := dial(t, addr)
	if g := c.expectOK(); g != "+OK pop.example.org POP3 server ready" {
		t.Errorf("greeting %q", g)
	}
	if l := c.ok("QUIT"); l != "+OK pop.example.org POP3 server signing off" {
		t.Errorf("QUIT in AUTHORIZATION: %q", l)
	}
	if !c.closed() {
		t.Error("connection open after QUIT")
	}
}

// isMultiLine reports whether a +OK to cmd is followed by a multi-line body.
func isMultiLine(cmd string) bool {
	verb, _, hasArgs := strings.Cut(strings.ToUpper(cmd), " ")
	switch verb {
	case "CAPA", "RETR", "TOP":
		return true
	case "LIST", "UIDL":
		return !hasArgs
	}
	return false
}

// TestCommandReplies runs one command in a given state and checks the
// status: the state machine and the parser, table-driven. After every
// reply the session must go on.
func TestCommandReplies(t *testing.T) {
	tests := []struct {
		name  string
		login bool     // start in TRANSACTION as alice
		setup []string // single-line commands sent first, replies not checked
		cmd   string
		ok    bool
		exact string // the whole status line, when set
	}{
		// AUTHORIZATION: TRANSACTION commands are refused.
		{name: "STAT before login", cmd: "STAT", exact: "-ERR STAT not valid in the AUTHORIZATION state"},
		{name: "LIST before login", cmd: "LIST"},
		{name: "LIST n before login", cmd: "LIST 1"},
		{name: "RETR before login", cmd: "RETR 1"},
		{name: "DELE before login", cmd: "DELE 1"},
		{name: "NOOP before login", cmd: "NOOP"},
		{name: "RSET before login", cmd: "RSET"},
		{name: "TOP before login", cmd: "TOP 1 0"},
		{name: "UIDL before login", cmd: "UIDL"},
		{name: "UIDL n before login", cmd: "UIDL 1"},
		{name: "unknown command", cmd: "FOO", exact: "-ERR unknown command"},
		{name: "empty line", cmd: ""},
		{name: "APOP not offered", cmd: "APOP alice c4c9334bac560ecc979e58001b3e22fb", exact: "-ERR APOP not supported"},
		{name: "SASL AUTH not offered", cmd: "AUTH PLAIN"},
		{name: "PASS without USER", cmd: "PASS secret"},
		{name: "PASS not right after USER", setup: []string{"USER alice", "NOOP"}, cmd: "PASS secret"},
		{name: "PASS after a failed PASS", setup: []string{"USER alice", "PASS wrong"}, cmd: "PASS secret"},
		{name: "PASS without argument", setup: []string{"USER alice"}, cmd: "PASS"},
		{name: "USER without argument", cmd: "USER"},
		{name: "USER with two arguments", cmd: "USER alice bob"},
		{name: "USER with trailing space", cmd: "USER alice "},
		{name: "USER with two spaces", cmd: "USER  alice"},
		{name: "USER argument of 41 octets (RFC 2449 lifts RFC 1939's 40)", cmd: "USER " + strings.Repeat("a", 41), ok: true},
		{name: "command line of 255 octets", cmd: "USER " + strings.Repeat("a", 255-7), ok: true},
		{name: "command line of 256 octets", cmd: "USER " + strings.Repeat("a", 256-7)},
		{name: "lower-case keyword", cmd: "user alice", ok: true, exact: "+OK send PASS"},
		{name: "mixed-case keyword", cmd: "UsEr alice", ok: true},
		{name: "8-bit octet", cmd: "USER \xff"},
		{name: "tab", cmd: "USER a\tb"},
		{name: "NUL", cmd: "USER a\x00b"},
		{name: "STLS without TLS", cmd: "STLS", exact: "-ERR STLS not available"},
		{name: "CAPA with argument", cmd: "CAPA x"},
		{name: "QUIT with argument", cmd: "QUIT now"},
		{name: "CAPA before login", cmd: "CAPA", ok: true},

		// TRANSACTION.
		{name: "USER after login", login: true, cmd: "USER alice", exact: "-ERR USER not valid in the TRANSACTION state"},
		{name: "PASS after login", login: true, cmd: "PASS secret"},
		{name: "STLS after login", login: true, cmd: "STLS"},
		{name: "unknown after login", login: true, cmd: "XTND XMIT"},
		{name: "STAT", login: true, cmd: "stat", ok: true, exact: fmt.Sprintf("+OK 4 %d", totalSize())},
		{name: "STAT with argument", login: true, cmd: "STAT 1"},
		{name: "NOOP", login: true, cmd: "NOOP", ok: true, exact: "+OK"},
		{name: "NOOP with argument", login: true, cmd: "NOOP x"},
		{name: "RSET with argument", login: true, cmd: "RSET x"},
		{name: "QUIT with argument", login: true, cmd: "QUIT x"},
		{name: "LIST", login: true, cmd: "LIST", ok: true, exact: fmt.Sprintf("+OK 4 messages (%d octets)", totalSize())},
		{name: "LIST n", login: true, cmd: "LIST 2", ok: true, exact: fmt.Sprintf("+OK 2 %d", size(2))},
		{name: "LIST leading zero", login: true, cmd: "LIST 02", ok: true, exact: fmt.Sprintf("+OK 2 %d", size(2))},
		{name: "LIST 0", login: true, cmd: "LIST 0", exact: "-ERR no such message"},
		{name: "LIST past the end", login: true, cmd: "LIST 5", exact: "-ERR no such message"},
		{name: "LIST huge", login: true, cmd: "LIST 99999999999999999999999", exact: "-ERR no such message"},
		{name: "LIST not a number", login: true, cmd: "LIST x"},
		{name: "LIST negative", login: true, cmd: "LIST -1"},
		{name: "LIST plus sign", login: true, cmd: "LIST +1"},
		{name: "LIST two arguments", login: true, cmd: "LIST 1 2"},
		{name: "LIST trailing space", login: true, cmd: "LIST "},
		{name: "RETR", login: true, cmd: "RETR 1", ok: true, exact: fmt.Sprintf("+OK %d octets", size(1))},
		{name: "RETR without argument", login: true, cmd: "RETR"},
		{name: "RETR past the end", login: true, cmd: "RETR 9"},
		{name: "RETR 0", login: true, cmd: "RETR 0"},
		{name: "TOP", login: true, cmd: "TOP 1 0", ok: true},
		{name: "TOP without line count", login: true, cmd: "TOP 1"},
		{name: "TOP negative line count", login: true, cmd: "TOP 1 -1"},
		{name: "TOP line count not a number", login: true, cmd: "TOP 1 x"},
		{name: "TOP past the end", login: true, cmd: "TOP 9 0"},
		{name: "TOP three arguments", login: true, cmd: "TOP 1 0 0"},
		{name: "DELE", login: true, cmd: "DELE 1", ok: true, exact: "+OK message 1 deleted"},
		{name: "DELE without argument", login: true, cmd: "DELE"},
		{name: "DELE past the end", login: true, cmd: "DELE 9"},
		{name: "DELE twice", login: true, setup: []string{"DELE 1"}, cmd: "DELE 1", exact: "-ERR message 1 already deleted"},
		{name: "UIDL", login: true, cmd: "UIDL", ok: true},
		{name: "UIDL n", login: true, cmd: "UIDL 1", ok: true, exact: "+OK 1 uid-one"},
		{name: "UIDL past the end", login: true, cmd: "UIDL 9"},
		{name: "RSET", login: true, cmd: "RSET", ok: true},
		{name: "CAPA after login", login: true, cmd: "CAPA", ok: true},
	}
	_, _, addr := startServer(t, Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c *client
			if tc.login {
				c = authenticated(t, addr)
			} else {
				c = greeted(t, addr)
			}
			for _, s := range tc.setup {
				c.raw(s + "\r\n")
				c.status()
			}
			c.raw(tc.cmd + "\r\n")
			l := c.status()
			if got := strings.HasPrefix(l, "+OK"); got != tc.ok {
				t.Fatalf("%q: got %q", tc.cmd, l)
			}
			if tc.exact != "" && l != tc.exact {
				t.Errorf("%q: got %q, want %q", tc.cmd, l, tc.exact)
			}
			if tc.ok && isMultiLine(tc.cmd) {
				c.body()
			}
			// Every error leaves the session usable, in the same state.
			if tc.login {
				c.ok("NOOP")
				// Free the lock for the next test, deleting nothing.
				c.ok("RSET")
				c.ok("QUIT")
			} else {
				c.fail("NOOP")
				c.ok("USER alice")
			}
		})
	}
}

func TestListingsAndRetrOctets(t *testing.T) {
	_, _, addr := startServer(t, Options{})
	c := authenticated(t, addr)
	if l := c.ok("STAT"); l != fmt.Sprintf("+OK 4 %d", totalSize()) {
		t.Errorf("STAT: %q", l)
	}
	_, list := c.multi("LIST")
	_, uidl := c.multi("UIDL")
	if len(list) != len(aliceMessages) || len(uidl) != len(aliceMessages) {
		t.Fatalf("LIST %q, UIDL %q", list, uidl)
	}
	for i, m := range aliceMessages {
		n := i + 1
		if want := fmt.Sprintf("%d %d", n, len(m.data)); list[i] != want {
			t.Errorf("LIST line %q, want %q", list[i], want)
		}
		if want := fmt.Sprintf("%d %s", n, m.uid); uidl[i] != want {
			t.Errorf("UIDL line %q, want %q", uidl[i], want)
		}
		if l := c.ok(fmt.Sprintf("LIST %d", n)); l != "+OK "+list[i] {
			t.Errorf("LIST %d: %q", n, l)
		}
		if l := c.ok(fmt.Sprintf("UIDL %d", n)); l != "+OK "+uidl[i] {
			t.Errorf("UIDL %d: %q", n, l)
		}
		st, lines := c.multi(fmt.Sprintf("RETR %d", n))
		if want := fmt.Sprintf("+OK %d octets", len(m.data)); st != want {
			t.Errorf("RETR %d: %q, want %q", n, st, want)
		}
		// The octets RETR sends, unstuffed, are the message and as many as
		// STAT and LIST say.
		if got := content(lines); got != m.data {
			t.Errorf("RETR %d: got %q, want %q", n, got, m.data)
		}
	}
}

// TestByteStuffing checks the wire form of RETR and TOP for lines that
// begin with "." (RFC 1939 §3).
func TestByteStuffing(t *testing.T) {
	_, _, addr := startServer(t, Options{})
	c := authenticated(t, addr)
	wire := func(cmd string) []string {
		t.Helper()
		c.ok(cmd)
		var lines []string
		for {
			l := c.line()
			lines = append(lines, l)
			if l == "." {
				return lines
			}
		}
	}
	if got, want := wire("RETR 2"), []string{"Subject: dots", "X-Test: y", "", "..", "...", "..x", "last . line", "."}; !slices.Equal(got, want) {
		t.Errorf("RETR 2 on the wire:\n got %q\nwant %q", got, want)
	}
	if got, want := wire("RETR 4"), []string{"..Odd: header", "Subject: no body", "."}; !slices.Equal(got, want) {
		t.Errorf("RETR 4 on the wire:\n got %q\nwant %q", got, want)
	}
	if got, want := wire("TOP 2 2"), []string{"Subject: dots", "X-Test: y", "", "..", "...", "."}; !slices.Equal(got, want) {
		t.Errorf("TOP 2 2 on the wire:\n got %q\nwant %q", got, want)
	}
	if got, want := wire("TOP 2 3"), []string{"Subject: dots", "X-Test: y", "", "..", "...", "..x", "."}; !slices.Equal(got, want) {
		t.Errorf("TOP 2 3 on the wire:\n got %q\nwant %q", got, want)
	}
}

func TestTop(t *testing.T) {
	_, _, addr := startServer(t, Options{})
	c := authenticated(t, addr)
	tests := []struct {
		cmd, want string
	}{
		{"TOP 1 0", "Subject: one\r\n\r\n"},
		{"TOP 1 1", "Subject: one\r\n\r\nhello\r\n"},
		{"TOP 2 0", "Subject: dots\r\nX-Test: y\r\n\r\n"},
		{"TOP 2 2", "Subject: dots\r\nX-Test: y\r\n\r\n.\r\n..\r\n"},
		{"TOP 3 0", "Subject: three\r\n\r\n"},
		{"TOP 3 2", "Subject: three\r\n\r\nl1\r\nl2\r\n"},
		{"TOP 3 3", aliceMessages[2].data},
		{"TOP 3 100", aliceMessages[2].data},
		{"TOP 3 99999999999999999999999", aliceMessages[2].data},
		{"TOP 4 0", aliceMessages[3].data}, // no blank line: all of it is header
		{"top 4 1", aliceMessages[3].data},
	}
	for _, tc := range tests {
		_, lines := c.multi(tc.cmd)
		if got := content(lines); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.cmd, got, tc.want)
		}
	}
}

func TestDeleSemantics(t *testing.T) {
	t.Run("marks; numbers stay; RSET unmarks", func(t *testing.T) {
		_, be, addr := startServer(t, Options{})
		c := authenticated(t, addr)
		c.ok("DELE 1")
		if l := c.ok("STAT"); l != fmt.Sprintf("+OK 3 %d", totalSize()-size(1)) {
			t.Errorf("STAT after DELE 1: %q", l)
		}
		if st, lines := c.multi("LIST"); st != fmt.Sprintf("+OK 3 messages (%d octets)", totalSize()-size(1)) ||
			!slices.Equal(lines, []string{fmt.Sprintf("2 %d", size(2)), fmt.Sprintf("3 %d", size(3)), fmt.Sprintf("4 %d", size(4))}) {
			t.Errorf("LIST after DELE 1: %q %q", st, lines)
		}
		if _, lines := c.multi("UIDL"); !slices.Equal(lines, []string{"2 uid-dots", "3 uid-three", "4 uid-headers-only"}) {
			t.Errorf("UIDL after DELE 1: %q", lines)
		}
		for _, cmd := range []string{"LIST 1", "UIDL 1", "RETR 1", "TOP 1 0", "DELE 1"} {
			if l := c.fail(cmd); l != "-ERR message 1 already deleted" {
				t.Errorf("%s: %q", cmd, l)
			}
		}
		// Numbers do not change.
		if l := c.ok("LIST 3"); l != fmt.Sprintf("+OK 3 %d", size(3)) {
			t.Errorf("LIST 3: %q", l)
		}
		if _, lines := c.multi("RETR 3"); content(lines) != aliceMessages[2].data {
			t.Errorf("RETR 3 after DELE 1: %q", lines)
		}
		c.ok("DELE 4")
		if l := c.ok("RSET"); l != fmt.Sprintf("+OK maildrop has 4 messages (%d octets)", totalSize()) {
			t.Errorf("RSET: %q", l)
		}
		if l := c.ok("STAT"); l != fmt.Sprintf("+OK 4 %d", totalSize()) {
			t.Errorf("STAT after RSET: %q", l)
		}
		if _, lines := c.multi("RETR 1"); content(lines) != aliceMessages[0].data {
			t.Errorf("RETR 1 after RSET: %q", lines)
		}
		c.ok("DELE 2")
		c.ok("RSET")
		c.ok("QUIT")
		c.closed()
		if d := be.deleteCalls(); len(d) != 0 {
			t.Errorf("Delete called after RSET: %q", d)
		}
	})

	t.Run("dropped connection deletes nothing", func(t *testing.T) {
		_, be, addr := startServer(t, Options{})
		c := authenticated(t, addr)
		c.ok("DELE 1")
		c.ok("DELE 2")
		c.conn.Close()
		var next *client
		eventually(t, "the lock to be released", func() bool {
			next, _ = tryLogin(t, addr, "alice", "secret")
			return next != nil
		})
		if l := next.ok("STAT"); l != fmt.Sprintf("+OK 4 %d", totalSize()) {
			t.Errorf("next session: %q", l)
		}
		if d := be.deleteCalls(); len(d) != 0 {
			t.Errorf("Delete called without QUIT: %q", d)
		}
	})

	t.Run("QUIT deletes exactly the marked messages", func(t *testing.T) {
		_, be, addr := startServer(t, Options{})
		c := authenticated(t, addr)
		c.ok("DELE 1")
		c.ok("DELE 3")
		if d := be.deleteCalls(); len(d) != 0 {
			t.Errorf("Delete called before QUIT: %q", d)
		}
		if l := c.ok("QUIT"); l != "+OK pop.example.org POP3 server signing off (2 messages deleted)" {
			t.Errorf("QUIT: %q", l)
		}
		if !c.closed() {
			t.Error("connection open after QUIT")
		}
		if d := be.deleteCalls(); len(d) != 1 || !slices.Equal(d[0], []string{"uid-one", "uid-three"}) {
			t.Errorf("Delete calls %q, want one with [uid-one uid-three]", d)
		}
		// The lock is free as soon as the client has the +OK.
		next, errLine := tryLogin(t, addr, "alice", "secret")
		if next == nil {
			t.Fatalf("login after QUIT: %q", errLine)
		}
		if _, lines := next.multi("UIDL"); !slices.Equal(lines, []string{"1 uid-dots", "2 uid-headers-only"}) {
			t.Errorf("UIDL in the next session: %q", lines)
		}
	})

	t.Run("QUIT with nothing marked", func(t *testing.T) {
		_, be, addr := startServer(t, Options{})
		c := authenticated(t, addr)
		if l := c.ok("QUIT"); l != "+OK pop.example.org POP3 server signing off (0 messages deleted)" {
			t.Errorf("QUIT: %q", l)
		}
		if d := be.deleteCalls(); len(d) != 0 {
			t.Errorf("Delete called with nothing marked: %q", d)
		}
	})

	t.Run("Delete failure", func(t *testing.T) {
		_, be, addr := startServer(t, Options{})
		be.set(func(b *memBackend) { b.deleteErr = errTest })
		c := authenticated(t, addr)
		c.ok("DELE 2")
		if l := c.fail("QUIT"); l != "-ERR [SYS/TEMP] some deleted messages not removed" {
			t.Errorf("QUIT: %q", l)
		}
		if !c.closed() {
			t.Error("connection open after QUIT")
		}
		if next, l := tryLogin(t, addr, "alice", "secret"); next == nil {
			t.Errorf("lock not released after a failed UPDATE: %q", l)
		}
	})
}

func TestMessageRemovedMeanwhile(t *testing.T) {
	_, be, addr := startServer(t, Options{})
	c := authenticated(t, addr)
	be.remove("alice", "uid-three")
	if l := c.fail("RETR 3"); l != "-ERR message 3 is no longer available" {
		t.Errorf("RETR 3: %q", l)
	}
	c.fail("TOP 3 0")
	// The listing is the snapshot taken at login.
	if l := c.ok("LIST 3"); l != fmt.Sprintf("+OK 3 %d", size(3)) {
		t.Errorf("LIST 3: %q", l)
	}
	c.ok("DELE 3")
	c.ok("QUIT")
	if d := be.deleteCalls(); len(d) != 1 || !slices.Equal(d[0], []string{"uid-three"}) {
		t.Errorf("Delete calls %q", d)
	}
}

func TestSizeMismatchEndsSession(t *testing.T) {
	_, be, addr := startServer(t, Options{})
	be.set(func(b *memBackend) { b.wrongSize = true })
	c := authenticated(t, addr)
	if l := c.ok("RETR 1"); l != fmt.Sprintf("+OK %d octets", size(1)+1) {
		t.Errorf("RETR 1: %q", l)
	}
	// The content, then the connection ends with no "." line.
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			break
		}
		if l == ".\r\n" {
			t.Fatal("response terminated although the message is shorter than its listed size")
		}
	}
	if d := be.deleteCalls(); len(d) != 0 {
		t.Errorf("Delete called: %q", d)
	}
}

func TestEmptyMaildrop(t *testing.T) {
	_, _, addr := startServer(t, Options{})
	c := loggedIn(t, addr, "bob", "hunter2")
	if l := c.ok("STAT"); l != "+OK 0 0" {
		t.Errorf("STAT: %q", l)
	}
	if st, lines := c.multi("LIST"); st != "+OK 0 messages (0 octets)" || len(lines) != 0 {
		t.Errorf("LIST: %q %q", st, lines)
	}
	if _, lines := c.multi("UIDL"); len(lines) != 0 {
		t.Errorf("UIDL: %q", lines)
	}
	if l := c.fail("RETR 1"); l != "-ERR no such message" {
		t.Errorf("RETR 1: %q", l)
	}
	if l := c.ok("QUIT"); l != "+OK pop.example.org POP3 server signing off (0 messages deleted)" {
		t.Errorf("QUIT: %q", l)
	}
}

func TestMaildropLock(t *testing.T) {
	t.Run("second session refused, stays in AUTHORIZATION", func(t *testing.T) {
		_, _, addr := startServer(t, Options{})
		first := authenticated(t, addr)
		for _, name := range []string{"alice", "ALICE"} { // one canonical user
			c := greeted(t, addr)
			c.ok("USER " + name)
			if l := c.fail("PASS secret"); l != "-ERR [IN-USE] Maildrop already locked" {
				t.Errorf("second login as %s: %q", name, l)
			}
			c.fail("STAT")
			c.ok("USER bob")
			c.ok("PASS hunter2")
			c.ok("STAT")
			c.ok("QUIT")
		}
		first.ok("STAT")
	})

	t.Run("free after QUIT", func(t *testing.T) {
		_, _, addr := startServer(t, Options{})
		first := authenticated(t, addr)
		first.ok("QUIT")
		if c, l := tryLogin(t, addr, "alice", "secret"); c == nil {
			t.Errorf("login right after QUIT: %q", l)
		}
	})

	t.Run("free after a dropped connection", func(t *testing.T) {
		_, be, addr := startServer(t, Options{})
		first := authenticated(t, addr)
		first.conn.Close()
		eventually(t, "the lock to be released", func() bool {
			c, _ := tryLogin(t, addr, "alice", "secret")
			return c != nil
		})
		eventually(t, "every maildrop to be closed", func() bool {
			opens, closes := be.counts()
			return opens == 2 && closes == 1
		})
	})

	t.Run("free after the idle timeout", func(t *testing.T) {
		_, be, addr := startServer(t, Options{IdleTimeout: 300 * time.Millisecond})
		first := authenticated(t, addr)
		first.ok("DELE 1")
		// RFC 1939 §3: no response, no UPDATE.
		if !first.closed() {
			t.Fatal("session open after the idle timeout")
		}
		c, l := tryLogin(t, addr, "alice", "secret")
		if c == nil {
			t.Fatalf("login after the idle timeout: %q", l)
		}
		if l := c.ok("STAT"); l != fmt.Sprintf("+OK 4 %d", totalSize()) {
			t.Errorf("STAT: %q", l)
		}
		if d := be.deleteCalls(); len(d) != 0 {
			t.Errorf("Delete called after an idle timeout: %q", d)
		}
	})

	t.Run("free after a failed open", func(t *testing.T) {
		_, be, addr := startServer(t, Options{})
		be.set(func(b *memBackend) { b.openErr = errTest })
		c := greeted(t, addr)
		c.ok("USER alice")
		if l := c.fail("PASS secret"); !strings.HasPrefix(l, "-ERR [SYS/TEMP] ") {
			t.Errorf("PASS with a failing maildrop: %q", l)
		}
		c.fail("STAT")
		be.set(func(b *memBackend) { b.openErr = nil })
		c.ok("USER alice")
		c.ok("PASS secret")
	})

	t.Run("invalid unique-ids refused", func(t *testing.T) {
		_, be, addr := startServer(t, Options{})
		be.set(func(b *memBackend) { b.badUID = true })
		c := greeted(t, addr)
		c.ok("USER alice")
		if l := c.fail("PASS secret"); !strings.HasPrefix(l, "-ERR [SYS/TEMP] ") {
			t.Errorf("PASS with a bad listing: %q", l)
		}
		if opens, closes := be.counts(); opens != 1 || closes != 1 {
			t.Errorf("maildrop opened %d, closed %d times", opens, closes)
		}
		be.set(func(b *memBackend) { b.badUID = false })
		c.ok("USER alice")
		c.ok("PASS secret")
	})
}

func TestAuthFailure(t *testing.T) {
	const delay = 150 * time.Millisecond
	var logs syncBuffer
	_, be, addr := startServer(t, Options{AuthFailureDelay: delay, Logger: debugLogger(&logs)})
	var replies []string
	for _, creds := range [][2]string{{"alice", "wrongpass"}, {"nobody", "secret"}} {
		c := greeted(t, addr)
		// USER says nothing about whether the user exists.
		if l := c.ok("USER " + creds[0]); l != "+OK send PASS" {
			t.Errorf("USER %s: %q", creds[0], l)
		}
		start := time.Now()
		replies = append(replies, c.fail("PASS "+creds[1]))
		if el := time.Since(start); el < delay {
			t.Errorf("%s: failure answered after %v, want at least %v", creds[0], el, delay)
		}
		// Still in AUTHORIZATION; PASS needs a new USER.
		c.fail("STAT")
		c.fail("PASS secret")
		c.ok("USER alice")
		c.ok("PASS secret")
		c.ok("QUIT")
		c.closed()
	}
	for _, r := range replies {
		if r != "-ERR [AUTH] Authentication failed" {
			t.Errorf("failed login answered %q", r)
		}
	}
	if log := logs.String(); strings.Contains(log, "wrongpass") || strings.Contains(log, "secret") {
		t.Errorf("a password is in the log:\n%s", log)
	} else if !strings.Contains(log, "authentication failed") {
		t.Errorf("failed login not logged:\n%s", log)
	}

	t.Run("backend failure is not an auth failure", func(t *testing.T) {
		be.set(func(b *memBackend) { b.authErr = errTest })
		defer be.set(func(b *memBackend) { b.authErr = nil })
		c := greeted(t, addr)
		c.ok("USER alice")
		if l := c.fail("PASS secret"); !strings.HasPrefix(l, "-ERR [SYS/TEMP] ") {
			t.Errorf("PASS with a failing backend: %q", l)
		}
	})
}

func TestCapa(t *testing.T) {
	cfg := selfSigned(t)
	base := []string{"TOP", "USER", "UIDL", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE", "IMPLEMENTATION mailcheck-reference"}
	withSTLS := []string{"TOP", "USER", "UIDL", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE", "STLS", "IMPLEMENTATION mailcheck-reference"}
	noUser := []string{"TOP", "UIDL", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE", "STLS", "IMPLEMENTATION mailcheck-reference"}
	check := func(t *testing.T, c *client, want []string) {
		t.Helper()
		st, lines := c.multi("CAPA")
		if st != "+OK Capability list follows" || !slices.Equal(lines, want) {
			t.Errorf("CAPA: %q %q, want %q", st, lines, want)
		}
	}
	t.Run("no TLS configured, InsecureAuth", func(t *testing.T) {
		_, _, addr := startServer(t, Options{InsecureAuth: true})
		c := greeted(t, addr)
		check(t, c, base)
		c.ok("USER alice")
		c.ok("PASS secret")
		check(t, c, base)
	})
	t.Run("no TLS configured: no clear-text login without InsecureAuth", func(t *testing.T) {
		_, _, addr := startServerAsIs(t, Options{})
		c := greeted(t, addr)
		noTLSNoUser := []string{"TOP", "UIDL", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE", "IMPLEMENTATION mailcheck-reference"}
		check(t, c, noTLSNoUser)
		if l := c.fail("USER alice"); !strings.HasPrefix(l, "-ERR [AUTH] ") {
			t.Errorf("USER without TLS: %q", l)
		}
		if l := c.fail("PASS secret"); !strings.HasPrefix(l, "-ERR [AUTH] ") {
			t.Errorf("PASS without TLS: %q", l)
		}
		c.fail("STAT")
	})
	t.Run("TLS configured: USER only after STLS", func(t *testing.T) {
		_, _, addr := startServer(t, Options{TLSConfig: cfg})
		c := greeted(t, addr)
		check(t, c, noUser)
		if l := c.fail("USER alice"); !strings.HasPrefix(l, "-ERR [AUTH] ") || !strings.Contains(l, "STLS") {
			t.Errorf("USER before STLS: %q", l)
		}
		if l := c.fail("PASS secret"); !strings.HasPrefix(l, "-ERR [AUTH] ") {
			t.Errorf("PASS before STLS: %q", l)
		}
		c.ok("STLS")
		c.startTLS()
		check(t, c, base)
		c.ok("USER alice")
		c.ok("PASS secret")
		check(t, c, base)
	})
	t.Run("TLS configured with InsecureAuth", func(t *testing.T) {
		_, _, addr := startServer(t, Options{TLSConfig: cfg, InsecureAuth: true})
		c := greeted(t, addr)
		check(t, c, withSTLS)
		c.ok("USER alice")
		c.ok("PASS secret")
		// RFC 2449 §5: what AUTHORIZATION announces, TRANSACTION does too;
		// STLS itself is valid only in AUTHORIZATION.
		check(t, c, withSTLS)
		c.fail("STLS")
	})
}

func TestSTLS(t *testing.T) {
	cfg := selfSigned(t)
	_, be, addr := startServer(t, Options{TLSConfig: cfg, InsecureAuth: true})
	t.Run("upgrade then login", func(t *testing.T) {
		c := greeted(t, addr)
		c.fail("STLS now")
		if l := c.ok("STLS"); l != "+OK Begin TLS negotiation" {
			t.Errorf("STLS: %q", l)
		}
		c.startTLS()
		if l := c.fail("STLS"); l != "-ERR Command not permitted when TLS active" {
			t.Errorf("second STLS: %q", l)
		}
		c.ok("USER alice")
		c.ok("PASS secret")
		if _, lines := c.multi("RETR 2"); content(lines) != aliceMessages[1].data {
			t.Errorf("RETR over TLS: %q", lines)
		}
		c.ok("QUIT")
	})
	t.Run("USER does not carry over STLS", func(t *testing.T) {
		c := greeted(t, addr)
		c.ok("USER alice")
		c.ok("STLS")
		c.startTLS()
		c.fail("PASS secret")
	})
	t.Run("plaintext pipelined after STLS is not executed", func(t *testing.T) {
		opens, _ := be.counts()
		c := greeted(t, addr)
		c.raw("STLS\r\nUSER alice\r\nPASS secret\r\nDELE 1\r\nQUIT\r\n")
		c.expectOK()
		c.startTLS()
		// Were the injected commands run, this would be TRANSACTION and
		// replies to them would come first.
		if l := c.fail("STAT"); l != "-ERR STAT not valid in the AUTHORIZATION state" {
			t.Errorf("first reply over TLS: %q", l)
		}
		c.fail("PASS secret")
		if now, _ := be.counts(); now != opens {
			t.Error("the injected login opened the maildrop")
		}
		if d := be.deleteCalls(); len(d) != 0 {
			t.Errorf("injected commands deleted %q", d)
		}
	})
}

func TestImplicitTLS(t *testing.T) {
	cfg := selfSigned(t)
	_, _, addr := startServer(t, Options{TLSConfig: cfg, ImplicitTLS: true})
	c := dial(t, addr)
	c.startTLS()
	if g := c.expectOK(); g != "+OK pop.example.org POP3 server ready" {
		t.Errorf("greeting %q", g)
	}
	if _, lines := c.multi("CAPA"); slices.Contains(lines, "STLS") || !slices.Contains(lines, "USER") {
		t.Errorf("CAPA under implicit TLS: %q", lines)
	}
	c.fail("STLS")
	c.ok("USER alice")
	c.ok("PASS secret")
	c.ok("STAT")

	srv := New(newMemBackend(), Options{ImplicitTLS: true})
	l, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(l); err == nil || err == ErrServerClosed {
		t.Errorf("Serve with ImplicitTLS and no TLSConfig: %v", err)
	}
}

func TestPipelining(t *testing.T) {
	_, be, addr := startServer(t, Options{})
	c := greeted(t, addr)
	// RFC 2449 §6.6: a whole batch in one write; errors in the middle do
	// not stop what follows; every reply comes, in order.
	c.raw("CAPA\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nRETR 2\r\nFOO\r\nDELE 1\r\nRETR 1\r\nNOOP\r\nSTAT\r\nUIDL 2\r\nTOP 3 1\r\nRSET\r\nQUIT\r\n")
	c.expectOK()
	c.body()
	c.expectOK()
	c.expectOK()
	if l := c.expectOK(); l != fmt.Sprintf("+OK 4 %d", totalSize()) {
		t.Errorf("STAT: %q", l)
	}
	c.expectOK()
	if lines := c.body(); len(lines) != 4 {
		t.Errorf("LIST: %q", lines)
	}
	c.expectOK()
	if lines := c.body(); content(lines) != aliceMessages[1].data {
		t.Errorf("RETR 2: %q", lines)
	}
	c.expectERR()
	if l := c.expectOK(); l != "+OK message 1 deleted" {
		t.Errorf("DELE 1: %q", l)
	}
	c.expectERR()
	c.expectOK()
	if l := c.expectOK(); l != fmt.Sprintf("+OK 3 %d", totalSize()-size(1)) {
		t.Errorf("STAT: %q", l)
	}
	if l := c.expectOK(); l != "+OK 2 uid-dots" {
		t.Errorf("UIDL 2: %q", l)
	}
	c.expectOK()
	if lines := c.body(); content(lines) != "Subject: three\r\n\r\nl1\r\n" {
		t.Errorf("TOP 3 1: %q", lines)
	}
	c.expectOK()
	if l := c.expectOK(); !strings.HasSuffix(l, "(0 messages deleted)") {
		t.Errorf("QUIT: %q", l)
	}
	if !c.closed() {
		t.Error("connection open after QUIT")
	}
	if d := be.deleteCalls(); len(d) != 0 {
		t.Errorf("Delete calls %q after RSET", d)
	}
}

func TestLineLimits(t *testing.T) {
	_, _, addr := startServer(t, Options{})
	t.Run("over-long line", func(t *testing.T) {
		c := authenticated(t, addr)
		for _, n := range []int{300, 40000} {
			if l := c.fail("NOOP " + strings.Repeat("x", n)); !strings.Contains(l, "too long") {
				t.Errorf("%d-octet line: %q", n, l)
			}
			c.ok("NOOP")
		}
		c.raw("NOOP\r\n" + strings.Repeat("y", 1000) + "\r\nSTAT\r\n")
		c.expectOK()
		c.expectERR()
		c.expectOK()
	})
	t.Run("255 octets with CRLF is the limit", func(t *testing.T) {
		c := greeted(t, addr)
		c.ok("USER alice")
		// PASS takes its whole argument, spaces included (RFC 1939 §7).
		long := "PASS " + strings.Repeat("p ", 124)
		if len(long)+2 != 255 {
			t.Fatalf("line of %d octets", len(long)+2)
		}
		if l := c.fail(long); l != "-ERR [AUTH] Authentication failed" {
			t.Errorf("255-octet PASS: %q", l)
		}
		c.ok("USER alice")
		if l := c.fail(long + "p"); !strings.Contains(l, "too long") {
			t.Errorf("256-octet PASS: %q", l)
		}
		// The over-long line was a command: PASS no longer follows USER.
		c.fail("PASS secret")
		c.ok("USER alice")
		c.ok("PASS secret")
	})
	t.Run("bare LF", func(t *testing.T) {
		c := authenticated(t, addr)
		c.raw("NOOP\n")
		c.expectERR()
		c.raw("NOOP\r\n")
		c.expectOK()
	})
}

func TestIdleTimeout(t *testing.T) {
	_, _, addr := startServer(t, Options{IdleTimeout: 200 * time.Millisecond})
	c := greeted(t, addr)
	start := time.Now()
	// RFC 1939 §3: closed without a response.
	if !c.closed() {
		t.Fatal("session open after the idle timeout")
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Errorf("closed after %v", el)
	}
}

func TestShutdownDeletesNothing(t *testing.T) {
	srv, be, addr := startServer(t, Options{})
	busy := authenticated(t, addr)
	busy.ok("DELE 1")
	busy.ok("DELE 2")
	idle := greeted(t, addr)

	done := make(chan error, 1)
	go func() {
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	for _, c := range []*client{busy, idle} {
		if l := c.expectERR(); l != "-ERR [SYS/TEMP] pop.example.org POP3 server shutting down" {
			t.Errorf("shutdown reply %q", l)
		}
		if !c.closed() {
			t.Error("connection open after shutdown")
		}
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if d := be.deleteCalls(); len(d) != 0 {
		t.Errorf("Delete called on shutdown: %q", d)
	}
	if opens, closes := be.counts(); opens != 1 || closes != 1 {
		t.Errorf("maildrop opened %d, closed %d times", opens, closes)
	}
	if _, err := dialErr(addr); err == nil {
		t.Error("still accepting after Shutdown")
	}
}

func TestConnectionLimit(t *testing.T) {
	_, _, addr := startServer(t, Options{MaxConnections: 2})
	a, b := greeted(t, addr), greeted(t, addr)
	c := dial(t, addr)
	if l := c.expectERR(); !strings.HasPrefix(l, "-ERR [SYS/TEMP] too many connections") {
		t.Errorf("busy reply %q", l)
	}
	if !c.closed() {
		t.Error("busy connection left open")
	}
	a.ok("QUIT")
	a.closed()
	b.ok("USER x")
	eventually(t, "a free slot", func() bool {
		d := dial(t, addr)
		return strings.HasPrefix(d.status(), "+OK")
	})
}
