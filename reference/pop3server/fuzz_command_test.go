package pop3server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Where FuzzCommand starts the fuzzed line (RFC 1939 §3 states): the
// AUTHORIZATION state fresh or just after a successful USER, or the
// TRANSACTION state of alice's maildrop (aliceMessages).
const (
	pop3Greeted = iota
	pop3AfterUser
	pop3LoggedIn
	pop3Setups
)

// pop3Verdict is what RFC 1939 (with RFC 2449's CAPA and line length)
// says the server must answer to a line.
type pop3Verdict struct {
	ok        bool // +OK, else -ERR
	multiline bool // +OK followed by lines up to "."
	quit      bool // the session ends after the response
	loggedIn  bool // TRANSACTION after the response
	// scanOf, if not 0, is the message number a single-line LIST or UIDL
	// answer must start with.
	scanOf uint64
}

// FuzzCommand sends one fuzzed command line to a live session and checks
// the response against pop3Expect, an independent reading of RFC 1939 §3
// and §§4-7: keyword of the command set, case-insensitive, valid in the
// state; arguments separated by single spaces, as many as the command
// takes (PASS takes the rest of the line, spaces included, §7); message
// numbers decimal and naming a message; the whole line printable ASCII of
// at most 255 octets with CRLF (RFC 2449 §4, which also lifts RFC 1939's
// 40-octet argument limit for a server with CAPA). The server must answer
// +OK exactly when the grammar and the state allow the command, with a
// well-formed status line, a multi-line body where §5-7 gives one, and a
// scan listing for the message asked; after it, RSET and QUIT must get
// the answers of the state the command left, and no message may have been
// deleted.
func FuzzCommand(f *testing.F) {
	for _, seed := range []struct {
		setup uint8
		line  string
	}{
		{pop3Greeted, "USER alice"}, {pop3Greeted, "user a b"}, {pop3Greeted, "USER"}, {pop3Greeted, "USER "},
		{pop3Greeted, "PASS secret"}, {pop3AfterUser, "PASS secret"}, {pop3AfterUser, "pass  secret"},
		{pop3AfterUser, "PASS wrong secret"}, {pop3AfterUser, "PASS "}, {pop3AfterUser, "USER bob"},
		{pop3Greeted, "CAPA"}, {pop3LoggedIn, "CAPA"}, {pop3Greeted, "QUIT"}, {pop3LoggedIn, "QUIT"},
		{pop3Greeted, "STLS"}, {pop3Greeted, "APOP alice c4c9334bac560ecc979e58001b3e22fb"}, {pop3Greeted, "AUTH PLAIN"},
		{pop3Greeted, "STAT"}, {pop3LoggedIn, "STAT"}, {pop3LoggedIn, "STAT 1"}, {pop3LoggedIn, "LIST"},
		{pop3LoggedIn, "LIST 2"}, {pop3LoggedIn, "LIST 0"}, {pop3LoggedIn, "LIST 5"}, {pop3LoggedIn, "LIST 002"},
		{pop3LoggedIn, "LIST -1"}, {pop3LoggedIn, "LIST +1"}, {pop3LoggedIn, "LIST 1 2"}, {pop3LoggedIn, "LIST 1 "},
		{pop3LoggedIn, "UIDL"}, {pop3LoggedIn, "UIDL 4"}, {pop3LoggedIn, "RETR 2"}, {pop3LoggedIn, "RETR"},
		{pop3LoggedIn, "TOP 3 1"}, {pop3LoggedIn, "TOP 4 0"}, {pop3LoggedIn, "TOP 1 99999999999999999999999"},
		{pop3LoggedIn, "TOP 1"}, {pop3LoggedIn, "DELE 1"}, {pop3LoggedIn, "DELE 99999999999999999999"},
		{pop3LoggedIn, "NOOP"}, {pop3LoggedIn, "RSET"}, {pop3LoggedIn, "USER alice"}, {pop3LoggedIn, "noop"},
		{pop3Greeted, ""}, {pop3Greeted, " "}, {pop3Greeted, "NOOP\x00"}, {pop3Greeted, "CAPA\r"},
		{pop3Greeted, "USER \xe9"}, {pop3LoggedIn, "STAT\t"}, {pop3Greeted, "USER " + strings.Repeat("a", 248)},
		{pop3Greeted, "USER " + strings.Repeat("a", 249)}, {pop3LoggedIn, "XTND XMIT"},
	} {
		f.Add(seed.setup, seed.line)
	}
	_, be, addr := startServer(f, Options{InsecureAuth: true, IdleTimeout: 5 * time.Second})
	f.Fuzz(func(t *testing.T, setupSeed uint8, line string) {
		if strings.Contains(line, "\n") {
			t.Skip("one command line: LF would end it")
		}
		setup := int(setupSeed) % pop3Setups
		deletesBefore := len(be.deleteCalls())
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(conn)
		send := func(s string) {
			if _, err := conn.Write([]byte(s)); err != nil {
				t.Fatalf("write %q: %v", s, err)
			}
		}
		status := func(what string) string {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("%s: %v (got %q)", what, err, l)
			}
			if !strings.HasSuffix(l, "\r\n") {
				t.Fatalf("%s: %q does not end with CRLF", what, l)
			}
			l = strings.TrimSuffix(l, "\r\n")
			if l != "+OK" && l != "-ERR" && !strings.HasPrefix(l, "+OK ") && !strings.HasPrefix(l, "-ERR ") {
				t.Fatalf("%s: malformed status line %q (RFC 1939 §3)", what, l)
			}
			return l
		}
		expectOK := func(what string) {
			if l := status(what); !strings.HasPrefix(l, "+OK") {
				t.Fatalf("%s: %q", what, l)
			}
		}
		expectOK("greeting")
		if setup >= pop3AfterUser {
			send("USER alice\r\n")
			expectOK("USER alice")
		}
		if setup == pop3LoggedIn {
			send("PASS secret\r\n")
			expectOK("PASS secret")
		}

		want := pop3Expect(setup, line)
		send(line + "\r\n")
		got := status("response to the fuzzed line")
		if strings.HasPrefix(got, "+OK") != want.ok {
			t.Fatalf("%q (setup %d) got %q; RFC 1939 wants +OK %v", line, setup, got, want.ok)
		}
		if want.scanOf != 0 {
			// RFC 1939 §5: the scan listing (LIST) or unique-id listing
			// (UIDL) of the message asked for, by its number.
			if fields := strings.Fields(got); len(fields) < 3 || fields[1] != strconv.FormatUint(want.scanOf, 10) {
				t.Fatalf("%q got %q: not a listing of message %d", line, got, want.scanOf)
			}
		}
		if want.multiline {
			// Up to the terminating "." line; an unterminated body runs
			// into the deadline and fails the read.
			for n := 0; ; n++ {
				l, err := r.ReadString('\n')
				if err != nil || !strings.HasSuffix(l, "\r\n") {
					t.Fatalf("%q: body line %d: %q, %v", line, n, l, err)
				}
				if l == ".\r\n" {
					break
				}
			}
		}
		if want.quit {
			expectEOF(t, r, line)
		} else {
			send("RSET\r\nQUIT\r\n")
			// RSET exists in TRANSACTION only (RFC 1939 §5): its answer
			// shows the state the fuzzed command left.
			if l := status("RSET after the fuzzed line"); strings.HasPrefix(l, "+OK") != want.loggedIn {
				t.Fatalf("after %q (setup %d), RSET got %q; logged in: %v", line, setup, l, want.loggedIn)
			}
			expectOK("QUIT after the fuzzed line")
			expectEOF(t, r, line)
		}
		if n := len(be.deleteCalls()); n != deletesBefore {
			t.Fatalf("after %q, RSET and QUIT: %d Delete calls, want none", line, n-deletesBefore)
		}
	})
}

// expectEOF checks that the server closed the connection with nothing
// more sent.
func expectEOF(t *testing.T, r *bufio.Reader, line string) {
	t.Helper()
	extra, err := r.ReadString('\n')
	if !errors.Is(err, io.EOF) || extra != "" {
		t.Fatalf("after %q and QUIT: %q, %v; want the connection closed", line, extra, err)
	}
}

// pop3Expect is RFC 1939's answer to line, sent at setup with the test
// backend's users (alice/secret with aliceMessages, bob/hunter2).
func pop3Expect(setup int, line string) pop3Verdict {
	loggedIn := setup == pop3LoggedIn
	refused := pop3Verdict{loggedIn: loggedIn}
	// RFC 2449 §4: at most 255 octets with CRLF; RFC 1939 §3: printable
	// ASCII.
	if len(line)+2 > 255 {
		return refused
	}
	for i := 0; i < len(line); i++ {
		if line[i] < 0x20 || line[i] > 0x7e {
			return refused
		}
	}
	keyword, rest, hasArgs := strings.Cut(line, " ")
	var args []string
	if hasArgs {
		if strings.EqualFold(keyword, "PASS") {
			args = []string{rest}
		} else {
			args = strings.Split(rest, " ")
		}
		for _, a := range args {
			if a == "" {
				return refused
			}
		}
	}
	// message reports a message-number argument that names a message of
	// alice's maildrop (none is deleted when the line is sent).
	message := func(a string) (uint64, bool) {
		if strings.Trim(a, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseUint(a, 10, 64)
		return n, err == nil && n >= 1 && n <= uint64(len(aliceMessages))
	}
	digits := func(a string) bool { return strings.Trim(a, "0123456789") == "" }
	accepted := pop3Verdict{ok: true, loggedIn: loggedIn}
	switch strings.ToUpper(keyword) {
	case "CAPA": // RFC 2449 §5: both states
		if len(args) == 0 {
			accepted.multiline = true
			return accepted
		}
	case "QUIT": // §5, §6
		if len(args) == 0 {
			accepted.quit = true
			return accepted
		}
	case "USER": // §7
		if !loggedIn && len(args) == 1 {
			return accepted
		}
	case "PASS": // §7: only just after a successful USER
		if setup == pop3AfterUser && len(args) == 1 && args[0] == "secret" {
			accepted.loggedIn = true
			return accepted
		}
	case "STAT", "NOOP", "RSET": // §5
		if loggedIn && len(args) == 0 {
			return accepted
		}
	case "LIST", "UIDL": // §5, §7
		if loggedIn && len(args) == 0 {
			accepted.multiline = true
			return accepted
		}
		if loggedIn && len(args) == 1 {
			if n, ok := message(args[0]); ok {
				accepted.scanOf = n
				return accepted
			}
		}
	case "RETR", "DELE": // §5
		if loggedIn && len(args) == 1 {
			if _, ok := message(args[0]); ok {
				accepted.multiline = strings.EqualFold(keyword, "RETR")
				return accepted
			}
		}
	case "TOP": // §7
		if loggedIn && len(args) == 2 && digits(args[1]) {
			if _, ok := message(args[0]); ok {
				accepted.multiline = true
				return accepted
			}
		}
	}
	// STLS (no TLS here), APOP, AUTH and every other keyword: -ERR.
	return refused
}
