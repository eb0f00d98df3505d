package pop3suite

import (
	"strings"
	"testing"
)

func TestParseReply(t *testing.T) {
	for _, c := range []struct {
		line    string
		ok      bool
		code    string // "" for none
		text    string
		invalid bool
	}{
		{line: "+OK", ok: true},
		{line: "+OK maildrop has 2 messages", ok: true, text: "maildrop has 2 messages"},
		{line: "-ERR", ok: false},
		{line: "-ERR [IN-USE] locked", code: "[IN-USE]", text: "locked"},
		{line: "-ERR [SYS/TEMP] try later", code: "[SYS/TEMP]", text: "try later"},
		{line: "-ERR [AUTH]", code: "[AUTH]"},
		{line: "+ok", invalid: true},
		{line: "-err no", invalid: true},
		{line: "+OKAY", invalid: true},
		{line: "-ERROR", invalid: true},
		{line: "OK POP3 ready", invalid: true},
		{line: "", invalid: true},
	} {
		r, err := parseReply(c.line)
		if (err != nil) != c.invalid {
			t.Errorf("%q: error %v, want invalid=%v", c.line, err, c.invalid)
			continue
		}
		if c.invalid {
			if !strings.Contains(err.Error(), "RFC 1939 §3") {
				t.Errorf("%q: the error %q does not name the rule", c.line, err)
			}
			continue
		}
		code := ""
		if r.code != nil {
			code = r.code.String()
		}
		if r.ok != c.ok || code != c.code || r.text != c.text {
			t.Errorf("%q: ok=%v code=%q text=%q, want %v %q %q", c.line, r.ok, code, r.text, c.ok, c.code, c.text)
		}
	}
}

func TestRespCodeHierarchy(t *testing.T) {
	r, _ := parseReply("-ERR [SYS/TEMP] later")
	if !r.code.is("SYS") || !r.code.is("SYS/TEMP") || r.code.is("SYS/PERM") || r.code.is("AUTH") {
		t.Errorf("[SYS/TEMP]: is SYS %v, SYS/TEMP %v, SYS/PERM %v, AUTH %v", r.code.is("SYS"), r.code.is("SYS/TEMP"), r.code.is("SYS/PERM"), r.code.is("AUTH"))
	}
	r, _ = parseReply("-ERR [login-delay] wait")
	if !r.code.is("LOGIN-DELAY") {
		t.Errorf("codes are matched without regard to case")
	}
}

func TestCodeProblem(t *testing.T) {
	for line, want := range map[string]string{
		"-ERR [IN-USE] locked":                     "",
		"+OK [XYZ/ABC] fine":                       "", // unknown codes are allowed; clients ignore them
		"-ERR no such message":                     "",
		"-ERR locked [IN-USE]":                     "right after the status",
		"-ERR maildrop locked [SYS/TEMP] later":    "right after the status",
		"-ERR [IN-USE locked":                      "resp-code",
		"-ERR [] empty":                            "resp-code",
		"-ERR [SYS//TEMP] empty level":             "resp-code",
		"-ERR [IN USE] space":                      "resp-code",
		"-ERR " + strings.Repeat("x", 506):         "512 octets",
		"-ERR unknown command [FOO] is not a code": "",
	} {
		err := parseAndProblem(line)
		switch {
		case want == "" && err != nil:
			t.Errorf("%.40q: %v, want no problem", line, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%.40q: %v, want a problem naming %q", line, err, want)
		}
	}
}

func parseAndProblem(line string) error {
	r, err := parseReply(line)
	if err != nil {
		return err
	}
	return r.codeProblem()
}

func TestParseCapability(t *testing.T) {
	for line, want := range map[string]string{
		"TOP":                                 "",
		"top":                                 "", // tags are matched without regard to case
		"USER":                                "",
		"SASL PLAIN LOGIN CRAM-MD5":           "",
		"SASL SCRAM-SHA-256 GSSAPI":           "",
		"RESP-CODES":                          "",
		"LOGIN-DELAY 900":                     "",
		"LOGIN-DELAY 900 USER":                "",
		"PIPELINING":                          "",
		"EXPIRE 60":                           "",
		"EXPIRE NEVER":                        "",
		"EXPIRE 0 USER":                       "",
		"UIDL":                                "",
		"IMPLEMENTATION Shlemazle-Plotz-v302": "",
		"IMPLEMENTATION":                      "",
		"STLS":                                "",
		"UTF8":                                "",
		"UTF8 USER":                           "",
		"LANG":                                "",
		"AUTH-RESP-CODE":                      "",
		"X-MANGLE":                            "",
		"XTND XMIT":                           "",
		"UIDLL":                               "tag is spelled UIDL",
		"RESP_CODES":                          "tag is spelled RESP-CODES",
		"PIPELINNG":                           "tag is spelled PIPELINING",
		"USRE":                                "tag is spelled USER",
		"LOGIN-DELAY soon":                    "RFC 2449 §6.5",
		"LOGIN-DELAY":                         "RFC 2449 §6.5",
		"LOGIN-DELAY 10 EVERYONE":             "RFC 2449 §6.5",
		"EXPIRE sometime":                     "RFC 2449 §6.7",
		"EXPIRE 1 2 3":                        "RFC 2449 §6.7",
		"TOP 10":                              "no arguments",
		"USER yes":                            "no arguments",
		"SASL":                                "RFC 4422",
		"SASL plain":                          "RFC 4422",
		"UTF8 ALL":                            "RFC 6856",
		"STLS  ":                              "param = 1*pchar",
		"TOP  ":                               "param = 1*pchar",
		"SASL  PLAIN":                         "param = 1*pchar",
		"":                                    "capa-tag",
		"X.FOO":                               "capa-tag",
		"TOP\x00":                             "capa-tag",
		"X-LONG " + strings.Repeat("a", 505):  "512 octets",
	} {
		_, _, err := parseCapability(line)
		switch {
		case want == "" && err != nil:
			t.Errorf("%.40q: %v, want well-formed", line, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%.40q: %v, want an error naming %q", line, err, want)
		}
	}
}

// A check that needs a capability hears "malformed" when the line meant
// to announce it is, and "not in CAPA" only when it is missing.
func TestCapaListingLack(t *testing.T) {
	l := parseCapa([]byte("TOP\r\nUIDLL\r\nRESP_CODES\r\nLOGIN-DELAY soon\r\nIMPLEMENTATION x\r\nAPOP\r\n"))
	for tag, want := range map[string]string{
		"TOP":         "",
		"UIDL":        "malformed",
		"RESP-CODES":  "malformed",
		"LOGIN-DELAY": "malformed",
		"PIPELINING":  "not in CAPA",
	} {
		got := l.lack(tag)
		if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
			t.Errorf("lack(%s) = %q, want %q", tag, got, want)
		}
	}
	if len(l.malformed) != 3 {
		t.Errorf("%d malformed lines, want 3: %v", len(l.malformed), l.malformed)
	}
	if strings.Join(l.unknown, ",") != "APOP" {
		t.Errorf("unknown tags %v, want [APOP]", l.unknown)
	}
	if empty := parseCapa(nil); len(empty.malformed) != 0 || len(empty.caps) != 0 {
		t.Errorf("an empty listing: %+v", empty)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"UIDL", "UIDL", 0}, {"UIDLL", "UIDL", 1}, {"UDIL", "UIDL", 1}, {"TOP", "STLS", 3}, {"", "TOP", 3}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
	// No tag is spelled a misspelling of another.
	for a := range tagArguments {
		if near := nearTag(a); near != "" {
			t.Errorf("registered %s is taken for a misspelling of %s", a, near)
		}
	}
}

// FuzzGrammar: the parsers never panic, and what they accept is what the
// grammar allows: a reply starts with its status indicator, a well-formed
// capability has only printable octets.
func FuzzGrammar(f *testing.F) {
	for _, seed := range []string{
		"+OK", "-ERR", "+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>", "-ERR [IN-USE] locked",
		"-ERR [SYS/TEMP]", "-ERR locked [IN-USE]", "-ERR [", "+OK [a/b/c] x", "+ok",
		"TOP", "USER", "SASL PLAIN", "RESP-CODES", "LOGIN-DELAY 900 USER", "PIPELINING",
		"EXPIRE NEVER", "UIDL", "IMPLEMENTATION x y", "STLS", "UTF8 USER", "LANG", "AUTH-RESP-CODE",
		"CAPA", "STAT", "LIST", "RETR 1", "DELE 1", "NOOP", "RSET", "QUIT", "TOP 1 0", "UIDL 1", "APOP a b",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if r, err := parseReply(line); err == nil {
			if !strings.HasPrefix(line, "+OK") && !strings.HasPrefix(line, "-ERR") {
				t.Fatalf("%q accepted as a status line", line)
			}
			r.codeProblem()
		}
		if c, _, err := parseCapability(line); err == nil {
			if !allBytes(c.tag, isCChar) {
				t.Fatalf("%q accepted with tag %q", line, c.tag)
			}
			for _, p := range c.params {
				if !allBytes(p, isPChar) {
					t.Fatalf("%q accepted with param %q", line, p)
				}
			}
		}
		parseCapa([]byte(line))
	})
}
