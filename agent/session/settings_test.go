package session

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/target"
)

// TestLoginResolve: one source for the password (URL, flag or file, whose
// first line it is), a user for a password and a password for a user, and
// nothing a login command cannot carry.
func TestLoginResolve(t *testing.T) {
	file := t.TempDir() + "/pw"
	os.WriteFile(file, []byte("from-file\r\nsecond line\n"), 0o644)
	for _, tc := range []struct {
		name           string
		l              Login
		user, password string
		err            string
	}{
		{"URL", Login{URLUser: "u", URLPassword: "p"}, "u", "p", ""},
		{"flags over the URL user", Login{URLUser: "u", User: "v", Password: "q"}, "v", "q", ""},
		{"file", Login{User: "u", PasswordFile: file}, "u", "from-file", ""},
		{"none", Login{}, "", "", ""},
		{"twice", Login{URLUser: "u", URLPassword: "p", Password: "q"}, "", "", "give the password once"},
		{"no user", Login{Password: "q"}, "", "", "a password without a user"},
		{"no password", Login{User: "u"}, "", "", "no password for u"},
		{"CR LF", Login{User: "u", Password: "p\r\nQUIT"}, "", "", "CR, LF or NUL"},
		{"missing file", Login{User: "u", PasswordFile: file + ".none"}, "", "", "--password-file: "},
	} {
		user, password, err := tc.l.Resolve()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || user != tc.user || password != tc.password {
			t.Errorf("%s: %q %q %v, want %q %q", tc.name, user, password, err, tc.user, tc.password)
		}
	}
}

// TestSettingsOptions: the login comes from the target URL too; the
// timeout, STARTTLS policy and CA file are checked; a transcript writer
// gets a transcript.
func TestSettingsOptions(t *testing.T) {
	tgt, _ := target.ParseTarget("imap://bob:pw@127.0.0.1:143", "")
	var b strings.Builder
	o, err := Settings{StartTLS: "always", Timeout: time.Second, Transcript: &b}.Options(tgt)
	if err != nil || o.User != "bob" || o.Password != "pw" || o.StartTLS != StartTLSAlways || o.Transcript == nil || o.TLS != nil {
		t.Errorf("options %+v, %v", o, err)
	}
	for _, s := range []Settings{
		{Timeout: 0},
		{Timeout: time.Second, StartTLS: "sometimes"},
		{Timeout: time.Second, CAFile: t.TempDir() + "/none.pem"},
	} {
		if _, err := s.Options(tgt); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
}
