package reference

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/reference/users"
)

// logBuffer collects a server's JSON log, one record per line.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the log records whose message is msg.
func (b *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// dialFrom connects to addr from the loopback address local, so that one
// test can be two clients (127.0.0.1 and 127.0.0.2).
func dialFrom(t *testing.T, local, addr string) *wire {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, local, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &wire{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// TestFailedLoginsSlowedPerClient checks the failed-login throttle end to
// end: one client's failures over SMTP, POP3 and IMAP add up, each past
// the grace of three doubling the delay, while another client's first
// failure gets the base delay. The delays are read from the log, not timed.
func TestFailedLoginsSlowedPerClient(t *testing.T) {
	var logs logBuffer
	srv := startReferenceConfigured(t, "example.org", func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.SMTP.AuthFailureDelay = time.Millisecond
	}, "bob:pw")

	smtpFail := func(local string) {
		w := dialFrom(t, local, srv.SMTPAddr())
		w.reply(220, "")
		w.cmd("EHLO client.example", 250, "")
		w.cmd("AUTH PLAIN "+plainAuth("bob", "wrong"), 535, "5.7.8")
	}
	pop3Fail := func(local string) {
		w := dialFrom(t, local, srv.Addr("pop3"))
		w.expectPrefix("+OK")
		w.send("USER bob\r\nPASS wrong\r\n")
		w.expectPrefix("+OK")
		w.expectPrefix("-ERR [AUTH]")
	}
	imapFail := func(local string) {
		w := dialFrom(t, local, srv.Addr("imap"))
		w.expectPrefix("* OK")
		w.imapCmd("A", "LOGIN bob wrong", "NO")
	}
	// Client A fails four times, over each protocol; then client B once,
	// then A again.
	smtpFail("127.0.0.1")
	pop3Fail("127.0.0.1")
	imapFail("127.0.0.1")
	smtpFail("127.0.0.1")
	smtpFail("127.0.0.2")
	pop3Fail("127.0.0.1")

	type failure struct {
		host  string
		delay time.Duration
	}
	var got []failure
	for _, rec := range logs.records(t, "authentication failed") {
		remote, _ := rec["remote"].(string)
		host, _, _ := net.SplitHostPort(remote)
		delay, _ := rec["delay"].(float64) // JSON: nanoseconds
		got = append(got, failure{host, time.Duration(delay)})
	}
	want := []failure{
		{"127.0.0.1", time.Millisecond}, {"127.0.0.1", time.Millisecond}, {"127.0.0.1", time.Millisecond},
		{"127.0.0.1", 2 * time.Millisecond}, {"127.0.0.2", time.Millisecond}, {"127.0.0.1", 4 * time.Millisecond},
	}
	if len(got) != len(want) {
		t.Fatalf("logged failures %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("failure %d: %v, want %v", i+1, got[i], want[i])
		}
	}
}

// TestPasswordsNeverLogged logs in with a distinctive password, and fails
// with another, over every way each protocol takes a password, with the
// log at debug level; neither password, nor the base64 that carries it,
// may appear in the log or in any file of the data directory.
func TestPasswordsNeverLogged(t *testing.T) {
	const good, bad = "Zq7-distinctive-secret", "Wr0ng-distinctive-guess"
	var logs logBuffer
	srv := startReferenceConfigured(t, "example.org", func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.SMTP.AuthFailureDelay = time.Millisecond
	}, "bob:"+good)

	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, pass := range []struct {
		pw   string
		code int
	}{{good, 235}, {bad, 535}} {
		// SMTP AUTH PLAIN with an initial response, PLAIN after a
		// challenge, and LOGIN.
		w := smtpAt(t, srv)
		w.cmd("AUTH PLAIN "+plainAuth("bob", pass.pw), pass.code, "")
		w = smtpAt(t, srv)
		w.cmd("AUTH PLAIN", 334, "")
		w.cmd(plainAuth("bob", pass.pw), pass.code, "")
		w = smtpAt(t, srv)
		w.cmd("AUTH LOGIN", 334, "")
		w.cmd(b64("bob"), 334, "")
		w.cmd(b64(pass.pw), pass.code, "")
		// A password given as the user name, as a confused client might.
		w = smtpAt(t, srv)
		w.cmd("AUTH LOGIN "+b64(pass.pw), 334, "")
		w.cmd(b64(pass.pw), 535, "")

		// POP3 USER/PASS.
		p := dialWire(t, srv.Addr("pop3"))
		p.expectPrefix("+OK")
		p.send("USER bob\r\nPASS " + pass.pw + "\r\nQUIT\r\n")
		p.expectPrefix("+OK")
		p.line()
		p.expectPrefix("+OK")

		// IMAP LOGIN (atom and quoted) and AUTHENTICATE PLAIN.
		status := "OK"
		if pass.pw == bad {
			status = "NO"
		}
		for _, cmd := range []string{"LOGIN bob " + pass.pw, `LOGIN "bob" "` + pass.pw + `"`, "AUTHENTICATE PLAIN " + plainAuth("bob", pass.pw)} {
			i := dialWire(t, srv.Addr("imap"))
			i.expectPrefix("* OK")
			i.imapCmd("A", cmd, status)
			i.imapCmd("Z", "LOGOUT", "OK")
		}
	}
	// Let the sessions end, so what they log at the end is in.
	time.Sleep(100 * time.Millisecond)
	log := logs.String()
	if !strings.Contains(log, "authentication failed") || !strings.Contains(log, "authenticated") {
		t.Fatalf("the log lacks the logins it should record:\n%s", log)
	}
	// A wrong password names the account; a name that is no account is
	// not logged (here it is a password given as the user name).
	known, unknown := 0, 0
	for _, rec := range logs.records(t, "authentication failed") {
		switch rec["user"] {
		case "bob":
			known++
		case "":
			unknown++
		}
	}
	if known == 0 || unknown == 0 {
		t.Errorf("failed logins logged for bob %d times and without a name %d times; want both", known, unknown)
	}
	secrets := []string{good, bad, b64(good), b64(bad), plainAuth("bob", good), plainAuth("bob", bad)}
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("%q is in the log", s)
			for _, l := range strings.Split(log, "\n") {
				if strings.Contains(l, s) {
					t.Log(l)
				}
			}
		}
	}
	// Passwords are hashed at rest: no file under the data directory holds
	// one, in clear or in base64.
	filepath.WalkDir(srv.DataDir(), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s holds %q", path, s)
			}
		}
		return nil
	})
}

// smtpAt dials the server's SMTP port and says EHLO.
func smtpAt(t *testing.T, srv *Server) *wire {
	t.Helper()
	w := dialWire(t, srv.SMTPAddr())
	w.reply(220, "")
	w.cmd("EHLO client.example", 250, "")
	return w
}

// TestUsersFileHoldsNoPassword checks the at-rest form: a users file line
// made by users.Hash verifies the password without containing it.
func TestUsersFileHoldsNoPassword(t *testing.T) {
	const pw = "Zq7-distinctive-secret"
	hash, err := users.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	line := "bob:" + hash + "\n"
	for _, s := range []string{pw, base64.StdEncoding.EncodeToString([]byte(pw)), base64.RawStdEncoding.EncodeToString([]byte(pw))} {
		if strings.Contains(line, s) {
			t.Errorf("users file line %q holds %q", line, s)
		}
	}
	db := users.New()
	if err := db.Load(io.Reader(strings.NewReader(line)), "users"); err != nil {
		t.Fatal(err)
	}
	if err := db.Verify("bob", pw); err != nil {
		t.Errorf("the hashed password does not verify: %v", err)
	}
}
