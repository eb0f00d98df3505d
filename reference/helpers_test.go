package reference

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/smtpwire"
	"github.com/mailcheck/mailcheck/reference/mailstore"
	"github.com/mailcheck/mailcheck/reference/users"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// startReference runs a reference server on a loopback port with a fresh
// data directory; it is shut down when the test ends.
func startReference(t testing.TB, domain string, routes map[string]string, accounts ...string) *Server {
	t.Helper()
	return startReferenceWith(t, nil, domain, routes, accounts...)
}

// startReferenceOn is startReference on a given listener.
func startReferenceOn(t testing.TB, l net.Listener, domain string, accounts ...string) *Server {
	t.Helper()
	return startReferenceWith(t, l, domain, nil, accounts...)
}

// restartReference starts a server on an existing data directory.
func restartReference(t testing.TB, dataDir, domain string, accounts ...string) *Server {
	t.Helper()
	return startReferenceIn(t, dataDir, nil, domain, nil, accounts...)
}

func startReferenceWith(t testing.TB, l net.Listener, domain string, routes map[string]string, accounts ...string) *Server {
	t.Helper()
	return startReferenceIn(t, t.TempDir(), l, domain, routes, accounts...)
}

func startReferenceIn(t testing.TB, dataDir string, l net.Listener, domain string, routes map[string]string, accounts ...string) *Server {
	t.Helper()
	return startReferenceFull(t, dataDir, l, domain, routes, nil, accounts...)
}

// startReferenceConfigured is startReference with the test configuration
// changed by configure before the server starts.
func startReferenceConfigured(t testing.TB, domain string, configure func(*Config), accounts ...string) *Server {
	t.Helper()
	return startReferenceFull(t, t.TempDir(), nil, domain, nil, configure, accounts...)
}

func startReferenceFull(t testing.TB, dataDir string, l net.Listener, domain string, routes map[string]string, configure func(*Config), accounts ...string) *Server {
	t.Helper()
	db := users.New()
	for _, a := range accounts {
		name, pw, _ := strings.Cut(a, ":")
		if err := db.Add(name, pw); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{
		DataDir:      dataDir,
		Hostname:     "mx." + domain,
		Domains:      []string{domain},
		Users:        db,
		SMTPAddr:     "127.0.0.1:0",
		SMTPListener: l,
		IMAPAddr:     "127.0.0.1:0",
		POP3Addr:     "127.0.0.1:0",
		InsecureAuth: true,
		Routes:       routes,
	}
	cfg.SMTP.InsecureAuth = true
	cfg.SMTP.AuthFailureDelay = -1
	cfg.POP3.AuthFailureDelay = -1
	cfg.Queue.RetryBase = 50 * time.Millisecond
	cfg.Queue.RetryMax = 200 * time.Millisecond
	cfg.Queue.ConnectTimeout = 2 * time.Second
	cfg.Queue.CommandTimeout = 5 * time.Second
	if configure != nil {
		configure(&cfg)
	}
	srv, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv
}

// mailbox returns the contents of user's INBOX messages, in UID order.
func mailbox(t testing.TB, store *mailstore.Store, user string) []string {
	t.Helper()
	mb, err := store.Inbox(user)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := mb.Messages()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		data, err := mb.Read(m.UID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(data))
	}
	return out
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// smtpClient is a minimal line client for driving the server in tests.
type smtpClient struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dialSMTP(t testing.TB, addr string) *smtpClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &smtpClient{t: t, conn: conn, r: bufio.NewReader(conn)}
	c.expect(220)
	return c
}

func (c *smtpClient) expect(code int) *smtpreply.Reply {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := smtpreply.ReadReply(c.r, true, nil)
	if err != nil {
		c.t.Fatalf("reading reply: %v", err)
	}
	if r.Code != code {
		c.t.Fatalf("got %s, want %d", r, code)
	}
	return r
}

func (c *smtpClient) cmd(line string, code int) *smtpreply.Reply {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		c.t.Fatal(err)
	}
	return c.expect(code)
}

// sendMessage sends msg (CRLF lines) in one transaction and expects 250.
func (c *smtpClient) sendMessage(from string, to []string, msg string) {
	c.t.Helper()
	c.cmd("MAIL FROM:<"+from+">", 250)
	for _, r := range to {
		c.cmd("RCPT TO:<"+r+">", 250)
	}
	c.cmd("DATA", 354)
	c.conn.Write(smtpwire.AppendDotStuffed(nil, []byte(msg)))
	c.expect(250)
}

// needTool returns the path of an outside tool; it skips the test when the
// tool is missing, but fails it under CI=true, where .ci/run installs it.
func needTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI=true (.ci/run installs it): %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return path
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// deliverTo sends msg from carol@example.net to bob@example.org over SMTP.
func deliverTo(t testing.TB, srv *Server, msg string) {
	t.Helper()
	s := dialSMTP(t, srv.SMTPAddr())
	s.cmd("EHLO client.example", 250)
	s.sendMessage("carol@example.net", []string{"bob@example.org"}, msg)
}

// runPython runs a client script with a time limit; the script prints "ok"
// when every assertion held.
func runPython(t testing.TB, python, what, script string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, append([]string{script}, args...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("%s: %v\n%s", what, err, out)
	}
}
