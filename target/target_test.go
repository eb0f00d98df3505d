package target

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		raw, protocol string
		want          Target
		err           bool
	}{
		{"mx.example:25", "", Target{Protocol: "smtp", Addr: "mx.example:25", FromPort: true}, false},
		{"mx.example:465", "", Target{Protocol: "smtp", Addr: "mx.example:465", ImplicitTLS: true, FromPort: true}, false},
		{"127.0.0.1:995", "", Target{Protocol: "pop3", Addr: "127.0.0.1:995", ImplicitTLS: true, FromPort: true}, false},
		{"[::1]:143", "", Target{Protocol: "imap", Addr: "[::1]:143", FromPort: true}, false},
		{"smtp://mx.example", "", Target{Protocol: "smtp", Addr: "mx.example:25"}, false},
		{"smtps://mx.example:4650", "", Target{Protocol: "smtp", Addr: "mx.example:4650", ImplicitTLS: true}, false},
		{"pop3://bob:pw@h:1110", "", Target{Protocol: "pop3", Addr: "h:1110", User: "bob", Password: "pw"}, false},
		{"imaps://h", "", Target{Protocol: "imap", Addr: "h:993", ImplicitTLS: true}, false},
		{"h:2500", "smtp", Target{Protocol: "smtp", Addr: "h:2500"}, false},
		{"h:2500", "", Target{}, true},
		{"h:25", "ftp", Target{}, true},
		{"http://h", "", Target{}, true},
		{"nohostport", "", Target{}, true},
		{"h:port", "smtp", Target{}, true},
	}
	for _, tc := range tests {
		got, err := ParseTarget(tc.raw, tc.protocol)
		if tc.err {
			if !errors.Is(err, ErrBadTarget) {
				t.Errorf("ParseTarget(%q, %q): err %v, want ErrBadTarget", tc.raw, tc.protocol, err)
			}
			continue
		}
		tc.want.Raw = tc.raw
		if err != nil || got != tc.want {
			t.Errorf("ParseTarget(%q, %q) = %+v, %v; want %+v", tc.raw, tc.protocol, got, err, tc.want)
		}
	}
}

func TestProtocolOfGreeting(t *testing.T) {
	for line, want := range map[string]string{
		"220 mx ESMTP\r\n": "smtp", "+OK POP3 ready\r\n": "pop3", "* OK [CAPABILITY IMAP4rev1] ready\r\n": "imap",
		"* PREAUTH hi\r\n": "imap", "SSH-2.0-OpenSSH\r\n": "",
	} {
		if got := ProtocolOfGreeting(line); got != want {
			t.Errorf("%q: %q, want %q", line, got, want)
		}
	}
}

// TestTargetErrorsHidePasswords: a bad target's error, and Redacted, show
// the target without its password (errors end up in CI logs).
func TestTargetErrorsHidePasswords(t *testing.T) {
	for _, raw := range []string{
		"pop3://bob:hunter2@h:99999", "imap://bob:hunter2@", "smtp://bob:hunter2@h:25/%zz", "gopher://bob:hunter2@h:25",
	} {
		_, err := ParseTarget(raw, "")
		if err == nil {
			t.Errorf("%s: no error", raw)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the password: %v", raw, err)
		}
	}
	tg, err := ParseTarget("pop3://bob:hunter2@h:110", "")
	if err != nil || tg.Redacted() != "pop3://bob:xxxxx@h:110" {
		t.Errorf("Redacted: %q, %v", tg.Redacted(), err)
	}
}

func TestTargetJSONHidesPassword(t *testing.T) {
	target, err := ParseTarget("imap://carol:secret@127.0.0.1:143", "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(target)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "secret") || !strings.Contains(string(out), `"target":"imap://carol:xxxxx@127.0.0.1:143"`) || !strings.Contains(string(out), `"user":"carol"`) {
		t.Errorf("JSON of the target: %s", out)
	}
	var back Target
	if err := json.Unmarshal(out, &back); err != nil || back.Addr != "127.0.0.1:143" || back.Protocol != "imap" {
		t.Errorf("read back: %+v, %v", back, err)
	}
}

// TestBadTargetErrorHidesPassword: a target URL the parser cannot read
// (an unencoded "/" or "%" in the password) gives an error without any
// piece of the password: it ends up in CI logs.
func TestBadTargetErrorHidesPassword(t *testing.T) {
	for _, raw := range []string{"imap://carol:abc/def@mail.example:143", "pop3://carol:50%ofsecret@mail.example", "imap://carol:sec#ret@mail.example"} {
		_, err := ParseTarget(raw, "")
		if err == nil {
			t.Errorf("%q parsed", raw)
			continue
		}
		for _, piece := range []string{"abc", "%of", ":sec", "sec"} {
			if strings.Contains(err.Error(), piece) {
				t.Errorf("ParseTarget(%q): %v: shows %q of the password", raw, err, piece)
			}
		}
	}
}
