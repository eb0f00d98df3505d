package reference

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/mailcheck/mailcheck/reference/smtpserver"
)

// TestStartForLoad: the server takes every session, recipient and message
// of the run, never below its defaults, serves SMTP only, and holds the
// run's account; an invalid account is the caller's error and leaves no
// server or directory behind.
func TestStartForLoad(t *testing.T) {
	srv, trust, err := StartForLoad(LoadSizing{Sessions: 5000, Recipients: 3, MessageBytes: 40 << 20, User: "carol", Password: "pw", InsecureAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(srv.DataDir())
	defer srv.Close()
	c := srv.cfg
	if c.SMTP.MaxConnections != 5010 || c.SMTP.MaxRecipients != smtpserver.DefaultMaxRecipients ||
		c.SMTP.MaxMessageBytes != 40<<20+64<<10 || !c.SMTP.InsecureAuth || trust == nil {
		t.Errorf("sized %+v", c.SMTP)
	}
	if srv.Addr("pop3") != "" || srv.Addr("imap") != "" || srv.SMTPAddr() == "" || !c.Users.Has("carol") {
		t.Errorf("listening %v; carol: %v", srv.Listening(), c.Users.Has("carol"))
	}
	if l := srv.Listening(); len(l) != 1 || !strings.HasPrefix(l[0], "SMTP on 127.0.0.1:") {
		t.Errorf("listening %q", l)
	}

	_, _, err = StartForLoad(LoadSizing{User: "Not Valid", Password: "pw"})
	var account *AccountError
	if !errors.As(err, &account) || account.User != "Not Valid" {
		t.Errorf("an invalid account: %v", err)
	}
}

// TestParseRoutes: DOMAIN=HOST:PORT, the domain in any case.
func TestParseRoutes(t *testing.T) {
	routes, err := ParseRoutes([]string{"Example.NET=127.0.0.1:2526"})
	if err != nil || routes["example.net"] != "127.0.0.1:2526" {
		t.Errorf("routes %v %v", routes, err)
	}
	for _, bad := range []string{"example.net", "example.net=host", "not_a_domain=h:25"} {
		if _, err := ParseRoutes([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestNewLogger: a level and a format, or an error naming what is wrong.
func TestNewLogger(t *testing.T) {
	var b bytes.Buffer
	l, err := NewLogger(&b, "warn", "json")
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hidden")
	l.Warn("shown")
	if strings.Contains(b.String(), "hidden") || !strings.Contains(b.String(), `"msg":"shown"`) {
		t.Errorf("log %q", b.String())
	}
	if _, err := NewLogger(&b, "loud", "text"); err == nil || !strings.Contains(err.Error(), "log level") {
		t.Errorf("a bad level: %v", err)
	}
	if _, err := NewLogger(&b, "info", "xml"); err == nil || !strings.Contains(err.Error(), "log format") {
		t.Errorf("a bad format: %v", err)
	}
}
