package engine

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func TestCredentialRedactor(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	type step struct {
		dir        Direction
		line, want string // want "" means the line is kept
	}
	cases := map[string][]step{
		"SMTP AUTH PLAIN with an initial response": {
			{DirClient, "AUTH PLAIN " + b64("\x00bob\x00s3cret"), "AUTH PLAIN <redacted 16 octets>"},
			{DirServer, "235 2.7.0 ok", ""},
			{DirClient, "MAIL FROM:<a@b>", ""},
		},
		"SMTP AUTH LOGIN answers each 334": {
			{DirClient, "auth login", ""},
			{DirServer, "334 VXNlcm5hbWU6", ""},
			{DirClient, b64("bob"), "<redacted SASL response, 4 octets>"},
			{DirServer, "334 UGFzc3dvcmQ6", ""},
			{DirClient, b64("s3cret"), "<redacted SASL response, 8 octets>"},
			{DirServer, "235 ok", ""},
			{DirClient, "NOOP", ""},
		},
		"a cancel, an empty response and non-base64 stay as evidence": {
			{DirClient, "AUTH PLAIN =", ""},
			{DirServer, "334 ", ""},
			{DirClient, "*", ""},
			{DirServer, "334 ", ""},
			{DirClient, "!not*base64!", ""},
			{DirServer, "501 bad", ""},
		},
		"IMAP AUTHENTICATE until the tagged answer, untagged lines between": {
			{DirClient, "a1 AUTHENTICATE PLAIN", ""},
			{DirServer, "+ ", ""},
			{DirClient, b64("\x00bob\x00s3cret"), "<redacted SASL response, 16 octets>"},
			{DirServer, "* CAPABILITY IMAP4rev2", ""},
			{DirClient, b64("more"), "<redacted SASL response, 8 octets>"},
			{DirServer, "a1 OK done", ""},
			{DirClient, "a2 APPEND INBOX {4}", ""},
			{DirServer, "+ go", ""},
			{DirClient, "aGk=", ""}, // a literal after the exchange is message data
		},
		"IMAP AUTHENTICATE with SASL-IR": {
			{DirClient, "a1 authenticate PLAIN " + b64("\x00bob\x00s3cret"), "a1 authenticate PLAIN <redacted 16 octets>"},
		},
		"POP3 PASS and APOP": {
			{DirClient, "USER bob", ""},
			{DirClient, "PASS my secret", "PASS <redacted 9 octets>"},
			{DirClient, "APOP bob c4c9334bac560ecc979e58001b3e22fb", "APOP bob <redacted 32 octets>"},
		},
		"POP3 AUTH and +OK ending it": {
			{DirClient, "AUTH PLAIN", ""},
			{DirServer, "+ ", ""},
			{DirClient, b64("\x00bob\x00s3cret"), "<redacted SASL response, 16 octets>"},
			{DirServer, "+OK logged in", ""},
			{DirClient, "U3RhdA==", ""},
		},
		"POP3 AUTH listing mechanisms starts no exchange": {
			{DirClient, "AUTH", ""},
			{DirServer, "+OK", ""},
		},
		"IMAP LOGIN keeps the user": {
			{DirClient, `a1 LOGIN "bob" "s3\"cret"`, `a1 LOGIN "bob" <redacted 10 octets>`},
			{DirClient, `a2 login bob s3cret`, `a2 login bob <redacted 6 octets>`},
			{DirClient, `a3 LOGIN "b o\"b" x`, `a3 LOGIN "b o\"b" <redacted 1 octet>`},
		},
		"IMAP LOGIN with literals hides the lines that follow": {
			{DirClient, "a1 LOGIN {3}", "a1 LOGIN <redacted 3 octets>"},
			{DirServer, "+ ok", ""},
			{DirClient, "bob {6}", "<redacted LOGIN argument, 7 octets>"},
			{DirServer, "+ ok", ""},
			{DirClient, "s3cret", "<redacted LOGIN argument, 6 octets>"},
			{DirServer, "a1 OK", ""},
			{DirClient, "a2 NOOP", ""},
		},
	}
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) {
			var r credentialRedactor
			for _, s := range steps {
				want := s.want
				if want == "" {
					want = s.line
				}
				got := string(r.line(s.dir, []byte(s.line+"\r\n")))
				if got != want+"\r\n" {
					t.Errorf("%s %q\n got %q\nwant %q", s.dir, s.line, got, want+"\r\n")
				}
			}
		})
	}
}

func TestSecretScrubber(t *testing.T) {
	pass := `pa"ss\wörd`
	tr := &T{
		Target:  Target{User: "carol", Password: pass},
		Options: &Options{Password: "smtp-secret", Readback: &Target{Password: "rb-secret"}, Seed: &Target{Password: "x"}},
	}
	s := newSecretScrubber(tr)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	leaks := []string{
		"LOGIN failed: " + pass,
		`read-back IMAP: LOGIN "carol" "pa\"ss\\wörd": NO`,
		"escaped " + EscapeLine([]byte(pass)),
		`quoted "` + strings.Trim(`"pa\"ss\\w\u00f6rd"`, `"`) + `"`,
		`valid credentials: "AUTH PLAIN ` + b64("\x00bob\x00smtp-secret") + `" got 535`,
		"with authzid " + b64("bob\x00bob\x00smtp-secret") + ".",
		"AUTH LOGIN answer " + b64("rb-secret"),
		"unpadded " + strings.TrimRight(b64("\x00u\x00rb-secret"), "="),
	}
	for _, text := range leaks {
		got := s.scrub(text)
		for _, secret := range []string{pass, "smtp-secret", "rb-secret", `pa\"ss`, "smtp-s", b64("rb-secret")} {
			if strings.Contains(got, secret) {
				t.Errorf("scrub(%q) = %q, still shows %q", text, got, secret)
			}
		}
		if !strings.Contains(got, redactedSecret) {
			t.Errorf("scrub(%q) = %q, nothing redacted", text, got)
		}
	}
	// Other text, and a one-letter "password", stay as they are.
	for _, text := range []string{"250 2.0.0 ok x x", "aGVsbG8gd29ybGQ= is base64", "PASS <redacted 10 octets>"} {
		if got := s.scrub(text); got != text {
			t.Errorf("scrub(%q) = %q, want it unchanged", text, got)
		}
	}
	r := Result{Message: "m " + pass, Transcript: []Line{{Text: "C: x " + b64("\x00bob\x00smtp-secret")}}}
	s.scrubResult(&r)
	if strings.Contains(r.Message, pass) || strings.Contains(r.Transcript[0].Text, b64("\x00bob\x00smtp-secret")) {
		t.Errorf("scrubResult left a secret: %+v", r)
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
