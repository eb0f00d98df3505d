package smtpserver

import (
	"bufio"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// mailParametersRE is RFC 5321 §4.1.2 written out, for what follows the
// path of MAIL or RCPT: nothing, or SP Mail-parameters, where
// esmtp-param = esmtp-keyword ["=" esmtp-value],
// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") and
// esmtp-value = 1*(%d33-60 / %d62-126).
var mailParametersRE = regexp.MustCompile(`^(?: [A-Za-z0-9][A-Za-z0-9-]*(?:=[\x21-\x3c\x3e-\x7e]+)?)*$`)

// FuzzParams checks parseParams against the grammar: it accepts exactly
// the parameter strings of mailParametersRE whose keywords are not
// repeated (ignoring case); accepted, it returns every parameter in order
// with its keyword upper-cased and its value as sent, and the parameters
// written out again parse to the same; refused, the reply is 501 5.5.4.
func FuzzParams(f *testing.F) {
	for _, seed := range []string{
		"", " SIZE=1000", " BODY=8BITMIME SIZE=0", " size=1 SIZE=2", " AUTH=<>", " AUTH=a+2Bb",
		" X-FOO", " -X", " X_Y=1", " A=", " A==", " A=b=c", "SIZE=1", " SIZE=1 ", "  SIZE=1",
		" A=\x7f", " A=\xc3\xa9", " A\tB", " 1-2-3=x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		params, reply := parseParams(s)
		want := mailParametersRE.MatchString(s) && !repeatsKeyword(s)
		if reply != nil {
			if want {
				t.Fatalf("parseParams(%q) refused parameters of the RFC 5321 §4.1.2 grammar: %v", s, reply)
			}
			if reply.Code != 501 || reply.Enhanced != "5.5.4" {
				t.Fatalf("parseParams(%q) refused with %v, want 501 5.5.4", s, reply)
			}
			return
		}
		if !want {
			t.Fatalf("parseParams(%q) accepted %q, which the RFC 5321 §4.1.2 grammar does not allow (or repeats a keyword)", s, params)
		}
		var fields []string
		if s != "" {
			fields = strings.Split(s[1:], " ")
		}
		if len(params) != len(fields) {
			t.Fatalf("parseParams(%q) gave %d parameters, want %d", s, len(params), len(fields))
		}
		var again strings.Builder
		for i, p := range params {
			key, value, _ := strings.Cut(fields[i], "=")
			if p.key != strings.ToUpper(key) || p.value != value {
				t.Fatalf("parseParams(%q): parameter %d is %q=%q, want %q=%q", s, i, p.key, p.value, strings.ToUpper(key), value)
			}
			again.WriteString(" " + p.key)
			if p.value != "" {
				again.WriteString("=" + p.value)
			}
		}
		back, reply := parseParams(again.String())
		if reply != nil || len(back) != len(params) {
			t.Fatalf("parseParams(%q) gave %q; written out as %q it gives %q, %v", s, params, again.String(), back, reply)
		}
		for i := range back {
			if back[i] != params[i] {
				t.Fatalf("parseParams(%q) gave %q; written out as %q it gives %q", s, params, again.String(), back)
			}
		}
	})
}

// repeatsKeyword reports a keyword given twice in a parameter string.
func repeatsKeyword(s string) bool {
	seen := map[string]bool{}
	for _, field := range strings.Fields(s) {
		key, _, _ := strings.Cut(field, "=")
		key = strings.ToUpper(key)
		if seen[key] {
			return true
		}
		seen[key] = true
	}
	return false
}

// Where FuzzCommandLine starts the fuzzed line: the commands sent before
// it, each answered as shown.
var commandSetups = []struct {
	lines []string
	codes []int
}{
	{nil, nil}, // greeted only
	{[]string{"EHLO client.example"}, []int{250}},
	{[]string{"EHLO client.example", "MAIL FROM:<sender@client.example>"}, []int{250, 250}},
	{[]string{"EHLO client.example", "MAIL FROM:<sender@client.example>", "RCPT TO:<alice@example.org>"}, []int{250, 250, 250}},
}

// FuzzCommandLine sends one fuzzed command line to a live session, at one
// of the points of commandSetups, and checks the server's answer:
//   - one line gets one reply (DATA's 354 and AUTH's 334 one more after
//     the client's part), then NOOP gets 250 and QUIT 221 and the close;
//   - the reply carries an enhanced status code of its class (RFC 2034
//     §4), except 3xx and the 250 to EHLO/HELO;
//   - a positive reply (2xx/3xx) only to a line of the grammar: ASCII
//     without CR or NUL, at most 512 octets (RFC 5321 §4.5.3.1.4; MAIL
//     more with SIZE and AUTH=), a command the server implements, in a
//     state that allows it, with the arguments RFC 5321 §4.1.1 gives it
//     (a MAIL path that ParsePath accepts, parameters of the §4.1.2
//     grammar that the server knows);
//   - and a positive reply to the simplest well-formed commands.
func FuzzCommandLine(f *testing.F) {
	for _, seed := range []struct {
		setup uint8
		line  string
	}{
		{0, "EHLO client.example"}, {0, "HELO [127.0.0.1]"}, {0, "ehlo [IPv6:::1]"}, {0, "EHLO a b"},
		{0, "MAIL FROM:<a@b.example>"}, {1, "MAIL FROM:<a@b.example>"}, {1, "mail from:<>"},
		{1, "MAIL FROM: <a@b.example>"}, {1, "MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME"},
		{1, "MAIL FROM:<a@b.example> SIZE=99999999999999999999"}, {1, "MAIL FROM:<a@b.example> X-UNKNOWN"},
		{1, "MAIL FROM:<a@b.example> SIZE=1 size=2"}, {1, "MAIL FROM:<j\xc3\xb6rg@b.example>"},
		{2, "RCPT TO:<bob@example.org>"}, {2, "RCPT TO:<Postmaster>"}, {2, "RCPT TO:<>"},
		{2, "RCPT TO:<x@elsewhere.example>"}, {2, "RCPT TO:<bob@example.org> NOTIFY=NEVER"},
		{3, "DATA"}, {3, "DATA x"}, {2, "DATA"}, {1, "RSET"}, {1, "RSET x"}, {0, "NOOP anything"},
		{0, "QUIT"}, {0, "QUIT now"}, {0, "VRFY alice"}, {0, "VRFY"}, {0, "HELP"}, {0, "EXPN list"},
		{1, "STARTTLS"}, {1, "AUTH PLAIN"}, {1, "AUTH LOGIN"}, {1, "AUTH PLAIN AGFsaWNlAHNlY3JldA=="},
		{1, "AUTH CRAM-MD5"}, {0, "AUTH PLAIN"}, {0, ""}, {0, " "}, {0, "NOOP\x00"}, {0, "NOOP\r"},
		{0, "\xff"}, {0, strings.Repeat("N", 600)}, {1, "MAIL FROM:<a@b.example> AUTH=" + strings.Repeat("x", 500)},
	} {
		f.Add(seed.setup, seed.line)
	}
	_, _, addr := startServer(f, Options{InsecureAuth: true, IdleTimeout: 5 * time.Second})
	f.Fuzz(func(t *testing.T, setupSeed uint8, line string) {
		if strings.Contains(line, "\n") {
			t.Skip("one command line: LF would end it")
		}
		setup := int(setupSeed) % len(commandSetups)
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
		read := func(what string) *smtpreply.Reply {
			reply, err := smtpreply.ReadReply(r, true, nil)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			return reply
		}
		if reply := read("greeting"); reply.Code != 220 {
			t.Fatalf("greeting %v", reply)
		}
		for i, l := range commandSetups[setup].lines {
			send(l + "\r\n")
			if reply := read(l); reply.Code != commandSetups[setup].codes[i] {
				t.Fatalf("setup %q: %v", l, reply)
			}
		}
		send(line + "\r\n")
		reply := read("reply to the fuzzed line")
		checkCommandReply(t, setup, line, reply)
		// The client's part of a command that asked for more: an empty
		// message for DATA, a cancel for AUTH (RFC 4954 §4).
		for round := 0; round < 3 && (reply.Code == 354 || reply.Code == 334); round++ {
			if reply.Code == 354 {
				send(".\r\n")
			} else {
				send("*\r\n")
			}
			reply = read("reply after the client's part")
		}
		if reply.Code == 221 {
			expectClosed(t, r, line)
			return
		}
		send("NOOP\r\nQUIT\r\n")
		if noop := read("NOOP after the fuzzed line"); noop.Code != 250 {
			t.Fatalf("after %q, NOOP got %v: the session is out of step", line, noop)
		}
		if quit := read("QUIT after the fuzzed line"); quit.Code != 221 {
			t.Fatalf("after %q, QUIT got %v: the session is out of step", line, quit)
		}
		expectClosed(t, r, line)
	})
}

// expectClosed checks that nothing follows the 221 but the close.
func expectClosed(t *testing.T, r *bufio.Reader, line string) {
	t.Helper()
	extra, err := r.ReadString('\n')
	if !errors.Is(err, io.EOF) || extra != "" {
		t.Fatalf("after %q and 221: %q, %v; want the connection closed", line, extra, err)
	}
}

// checkCommandReply checks the reply to the fuzzed line.
func checkCommandReply(t *testing.T, setup int, line string, reply *smtpreply.Reply) {
	t.Helper()
	verbWord, arg, _ := strings.Cut(line, " ")
	verb := strings.ToUpper(verbWord)
	class := reply.Code / 100
	helloOK := (verb == "EHLO" || verb == "HELO") && reply.Code == 250
	if class != 3 && !helloOK && (reply.Enhanced == "" || int(reply.Enhanced[0]-'0') != class) {
		t.Fatalf("%q got %v: no enhanced status code of class %d (RFC 2034 §4, RFC 3463 §3.1)", line, reply, class)
	}
	if reply.Code < 400 {
		if why := whyNotPositive(setup, line, verb, arg); why != "" {
			t.Fatalf("%q (after setup %d) got %v, but %s", line, setup, reply, why)
		}
		return
	}
	if why := whyPositive(setup, line, verb, arg, reply.Code); why != "" {
		t.Fatalf("%q (after setup %d) got %v, but %s", line, setup, reply, why)
	}
}

// whyNotPositive says why a line deserves no positive reply, or "".
func whyNotPositive(setup int, line, verb, arg string) string {
	if strings.ContainsAny(line, "\r\x00") {
		return "the line holds a CR or NUL (RFC 5321 §2.3.8)"
	}
	for i := 0; i < len(line); i++ {
		if line[i] >= 0x80 {
			return "the line is not ASCII and SMTPUTF8 is not offered (RFC 5321 §2.4)"
		}
	}
	limit := 512
	if verb == "MAIL" {
		limit += 26 + 500 // RFC 1870 §3 (SIZE), RFC 4954 §5 (AUTH=)
	}
	if len(line)+2 > limit {
		return "the line is longer than RFC 5321 §4.5.3.1.4 allows"
	}
	noArgs := !strings.Contains(line, " ")
	switch verb {
	case "EHLO", "HELO":
		if !smtpaddr.IsDomain(arg) && !smtpaddr.IsAddressLiteral(arg) {
			return "the argument is not a Domain or address-literal (RFC 5321 §4.1.1.1)"
		}
	case "MAIL":
		if setup != 1 {
			return "MAIL needs EHLO first and no transaction open (RFC 5321 §4.1.4)"
		}
		return whyNotMailArgument(arg)
	case "RCPT":
		if setup < 2 {
			return "RCPT needs MAIL first (RFC 5321 §4.1.4)"
		}
		rest, ok := cutFold(arg, "TO:")
		if !ok {
			return "the argument does not start with TO:"
		}
		if params, ok := cutFold(rest, "<postmaster>"); ok {
			rest = params
		} else {
			_, null, params, err := smtpaddr.ParsePath(rest)
			if err != nil || null {
				return "ParsePath refuses the forward-path"
			}
			rest = params
		}
		if rest != "" {
			return "the server knows no RCPT parameter"
		}
	case "DATA":
		if setup != 3 || !noArgs {
			return "DATA takes no argument and needs MAIL and RCPT (RFC 5321 §4.1.1.4)"
		}
	case "RSET", "QUIT":
		if !noArgs {
			return verb + " takes no argument (RFC 5321 §4.1.1)"
		}
	case "VRFY":
		if arg == "" {
			return "VRFY needs a string (RFC 5321 §4.1.1.6)"
		}
	case "NOOP", "HELP":
	case "AUTH":
		if setup != 1 {
			return "AUTH needs EHLO and no transaction (RFC 4954 §4)"
		}
	default:
		return "the server does not implement " + verb
	}
	return ""
}

// whyNotMailArgument checks "FROM:" Reverse-path [SP Mail-parameters].
func whyNotMailArgument(arg string) string {
	rest, ok := cutFold(arg, "FROM:")
	if !ok {
		return "the argument does not start with FROM:"
	}
	_, _, params, err := smtpaddr.ParsePath(rest)
	if err != nil {
		return "ParsePath refuses the reverse-path"
	}
	if !mailParametersRE.MatchString(params) || repeatsKeyword(params) {
		return "the parameters are not of the RFC 5321 §4.1.2 grammar"
	}
	for _, field := range strings.Fields(params) {
		key, value, _ := strings.Cut(field, "=")
		switch strings.ToUpper(key) {
		case "SIZE": // RFC 1870 §4: 1*20DIGIT
			if value == "" || len(value) > 20 || strings.Trim(value, "0123456789") != "" {
				return "SIZE is not 1*20DIGIT"
			}
		case "BODY": // RFC 6152 §2
			if v := strings.ToUpper(value); v != "7BIT" && v != "8BITMIME" {
				return "BODY is neither 7BIT nor 8BITMIME"
			}
		case "AUTH": // RFC 4954 §5
			if value == "" {
				return "AUTH= has no value"
			}
		default:
			return "the server does not know parameter " + key
		}
	}
	return ""
}

// whyPositive says why a line deserves a positive reply, or (for RCPT)
// at least no syntax error, when it got a negative one; "" if it need not.
func whyPositive(setup int, line, verb, arg string, code int) string {
	if strings.ContainsAny(line, "\r\x00") || !isASCII([]byte(line)) {
		return ""
	}
	switch noArgs := !strings.Contains(line, " "); {
	case noArgs && (verb == "NOOP" || verb == "HELP" || verb == "RSET" || verb == "QUIT"):
		return "a bare " + verb + " is always answered positively (RFC 5321 §4.1.1)"
	case (verb == "EHLO" || verb == "HELO") && (smtpaddr.IsDomain(arg) || smtpaddr.IsAddressLiteral(arg)):
		return "the argument is a valid Domain or address-literal (RFC 5321 §4.1.1.1)"
	case verb == "MAIL" && setup == 1:
		if rest, ok := cutFold(arg, "FROM:"); ok {
			if _, _, params, err := smtpaddr.ParsePath(rest); err == nil && params == "" {
				return "the reverse-path is valid and the session is ready for MAIL"
			}
		}
	case verb == "RCPT" && setup >= 2 && (code == 500 || code == 501 || code == 553 || code == 555):
		if rest, ok := cutFold(arg, "TO:"); ok {
			if _, null, params, err := smtpaddr.ParsePath(rest); err == nil && !null && params == "" {
				return "the forward-path is valid: only the recipient check may refuse it"
			}
		}
	}
	return ""
}

// cutFold is strings.CutPrefix ignoring ASCII case.
func cutFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
