package reference

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/reference/certs"
)

// The hostile-input table: each case is one misbehaving client of one
// protocol, what it sends and what the server must answer. While it runs,
// a separate well-behaved client completes a transaction on the same
// server (an SMTP delivery, read back over the case's protocol), proving
// the other sessions unaffected; and nothing may appear outside the data
// directory. Each case runs against a server of its own, with short
// timeouts so a trickling client is cut off in seconds, not minutes.

// Limits of the server the cases run against.
const (
	hostileIdle        = 2 * time.Second // SMTP and POP3 command timeout
	hostileDataTimeout = 3 * time.Second // the whole of an SMTP message
	hostileMaxMessage  = 64 << 10        // SMTP SIZE and IMAP APPENDLIMIT
	hostileSMTPConns   = 200
	hostileIMAPConns   = 50
	// caseGuard bounds each case and its well-behaved session: far more
	// than any needs, so it only trips on a hang.
	caseGuard = 60 * time.Second
)

// hostileCase is one row of the table.
type hostileCase struct {
	proto   string // smtp, pop3 or imap
	name    string
	sends   string
	expects string
	// configure changes the server's configuration for this case.
	configure func(*Config)
	// run sends the hostile input and checks the answers. It calls
	// h.underway once the hostile input is in flight (the well-behaved
	// session starts then); if it does not, the well-behaved session
	// starts when run returns.
	run func(h *hostileRun)
}

// hostileRun is what a case's run works with.
type hostileRun struct {
	*testing.T
	srv    *Server
	escape string // a name no file or mailbox may ever get (path traversal)

	once      sync.Once
	started   chan struct{}
	clientTLS *tls.Config
}

func (h *hostileRun) underway() { h.once.Do(func() { close(h.started) }) }

func TestHostileInput(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.proto+"/"+tc.name, func(t *testing.T) {
			h := &hostileRun{T: t, started: make(chan struct{}), escape: "mcesc" + randomHex(t),
				clientTLS: &tls.Config{InsecureSkipVerify: true}}
			h.srv = hostileServer(t, tc.configure)
			outside := entriesOutside(t, h.srv.DataDir())

			good := make(chan error, 1)
			go func() {
				select {
				case <-h.started:
				case <-time.After(caseGuard):
				}
				good <- wellBehaved(h.srv, tc.proto)
			}()
			done := make(chan struct{})
			go func() {
				// The case's own goroutine ends the test with Fatal if it
				// must; the guard only reports a hang.
				select {
				case <-done:
				case <-time.After(caseGuard):
					t.Errorf("case still running after %v", caseGuard)
				}
			}()
			func() {
				defer close(done)
				defer h.underway()
				tc.run(h)
			}()
			select {
			case err := <-good:
				if err != nil {
					t.Errorf("well-behaved %s session beside the hostile one: %v", tc.proto, err)
				}
			case <-time.After(caseGuard):
				t.Errorf("well-behaved %s session did not finish in %v", tc.proto, caseGuard)
			}
			if after := entriesOutside(t, h.srv.DataDir()); !slices.Equal(after, outside) {
				t.Errorf("files appeared outside the data directory: before %q, after %q", outside, after)
			}
			checkNoEscape(t, h.srv.DataDir(), h.escape)
			if !t.Failed() {
				t.Logf("%s | %s | %s | ok", tc.proto, tc.sends, tc.expects)
			}
		})
	}
}

func hostileCases() []hostileCase {
	return []hostileCase{
		// SMTP: framing and octets.
		{proto: "smtp", name: "1MB-line-then-CRLF", sends: "a 1 MiB command line, then CRLF, then NOOP",
			expects: "500 5.5.2 line too long; NOOP 250 (session goes on)", run: smtpLongLine},
		{proto: "smtp", name: "1MB-line-no-CRLF", sends: "a 1 MiB line with no CRLF, then nothing",
			expects: "421 4.4.2 at the command timeout, connection closed", run: smtpLongLineNoEnd},
		{proto: "smtp", name: "NUL-in-commands", sends: "NUL in NOOP, EHLO, MAIL and RCPT lines",
			expects: "500 5.5.2 for each; session goes on", run: smtpNULCommands},
		{proto: "smtp", name: "NUL-in-DATA", sends: "a message with a NUL octet",
			expects: "554 5.6.0 after the data; nothing delivered", run: smtpNULData},
		{proto: "smtp", name: "bare-CR-LF-in-commands", sends: "NOOP<LF>, NO<CR>OP<CR><LF>, RSET<CR>",
			expects: "500 5.5.2 for each; session goes on", run: smtpBareLineEndCommands},
		{proto: "smtp", name: "bare-CR-LF-in-DATA", sends: "messages with bare LF, bare CR, and <LF>.<LF> smuggling a second MAIL",
			expects: "554 5.6.0 once per message; the smuggled MAIL is never run; nothing delivered", run: smtpBareLineEndData},
		{proto: "smtp", name: "non-ASCII-in-commands", sends: "8-bit octets in EHLO, NOOP, MAIL and RCPT",
			expects: "500 5.5.2 for commands, 553 5.6.7 for addresses", run: smtpNonASCII},
		{proto: "smtp", name: "message-over-SIZE", sends: "MAIL SIZE= over the limit; then an undeclared message over it",
			expects: "552 5.3.4 at MAIL; 552 5.3.4 after DATA, nothing delivered", run: smtpOverSize},
		{proto: "smtp", name: "10000-RCPT", sends: "10,000 RCPT TO pipelined in one transaction",
			expects: "100 × 250, then 452 4.5.3; DATA delivers one copy", run: smtpManyRcpts},
		{proto: "smtp", name: "10000-pipelined-commands", sends: "10,000 NOOP in one write",
			expects: "10,000 × 250 2.0.0 in order", run: smtpPipelinedBurst},
		{proto: "smtp", name: "AUTH-garbage-base64", sends: "AUTH PLAIN and LOGIN with invalid base64 and malformed PLAIN",
			expects: "501 5.5.2 for each; then a good AUTH 235", run: smtpAuthGarbage},
		{proto: "smtp", name: "slowloris-command", sends: "EHLO one octet per second, never finished",
			expects: "421 4.4.2 at the command timeout, connection closed", run: smtpSlowlorisCommand},
		{proto: "smtp", name: "slowloris-DATA", sends: "message lines one octet per second, each line complete",
			expects: "421 4.4.2 at the DATA timeout, connection closed, nothing delivered", run: smtpSlowlorisData},
		{proto: "smtp", name: "2000-connections", sends: "2,000 simultaneous connections (limit 200)",
			expects: "200 × 220, 1,800 × 421 4.3.2; heap growth bounded", run: smtpConnectionFlood},
		{proto: "smtp", name: "STARTTLS-injection", sends: "STARTTLS and a pipelined plaintext MAIL in one write",
			expects: "220; the plaintext is discarded, never run under TLS", run: smtpStartTLSInjection},
		{proto: "smtp", name: "AUTH-before-TLS", sends: "AUTH PLAIN with good credentials before STARTTLS (no InsecureAuth)",
			expects: "538 5.7.11, not offered in EHLO; 235 after STARTTLS", configure: strictAuth, run: smtpAuthBeforeTLS},
		{proto: "smtp", name: "open-relay", sends: "unauthenticated RCPT to foreign domains: plain, source route, % hack, quoted local parts, address literal",
			expects: "554 5.7.1 or 550 5.1.1 or 501 each; queue stays empty; relays after AUTH", run: smtpOpenRelay},
		{proto: "smtp", name: "path-traversal", sends: "AUTH and RCPT with user names like ../../x, /abs, NUL",
			expects: "535, 550 5.1.1 or 501; nothing created", run: smtpPathTraversal},

		// POP3.
		{proto: "pop3", name: "1MB-line", sends: "a 1 MiB command line, then CRLF, then CAPA",
			expects: "-ERR line too long; CAPA +OK", run: pop3LongLine},
		{proto: "pop3", name: "NUL-bare-LF-non-ASCII", sends: "USER with NUL, CAPA<LF>, USER with 8-bit octets",
			expects: "-ERR for each; session goes on", run: pop3BadOctets},
		{proto: "pop3", name: "10000-pipelined-commands", sends: "10,000 NOOP in one write after login",
			expects: "10,000 × +OK in order", run: pop3PipelinedBurst},
		{proto: "pop3", name: "slowloris", sends: "USER one octet per second, never finished",
			expects: "connection closed at the autologout timer (RFC 1939 §3: no response)", run: pop3Slowloris},
		{proto: "pop3", name: "path-traversal", sends: "USER ../../x, /abs, INBOX/../x with PASS",
			expects: "-ERR [AUTH] for each; nothing created", run: pop3PathTraversal},
		{proto: "pop3", name: "PASS-before-TLS", sends: "USER/PASS with good credentials before STLS (no InsecureAuth)",
			expects: "-ERR [AUTH], USER not in CAPA; +OK after STLS", configure: strictAuth, run: pop3PassBeforeTLS},
		{proto: "pop3", name: "RETR-during-delivery", sends: "RETR of every message while SMTP delivers 20 more",
			expects: "each RETR whole and byte-exact; the listing fixed at login; a new session sees all", run: pop3RetrDuringDelivery},

		// IMAP.
		{proto: "imap", name: "2GB-literal", sends: "APPEND INBOX {2147483648} (and {2147483648+})",
			expects: "NO [TOOBIG], no continuation, nothing read or allocated; session goes on", run: imapHugeLiteral},
		{proto: "imap", name: "2GB-literal-in-LOGIN", sends: "LOGIN {2147483648}, then LOGIN bob pw",
			expects: "BAD (go-imap drops its TOOBIG and takes the next line as the rest); nothing allocated, nobody logged in; session goes on", run: imapHugeLoginLiteral},
		{proto: "imap", name: "AUTHENTICATE-garbage-base64", sends: "AUTHENTICATE PLAIN with invalid base64, as initial response and after the challenge",
			expects: "NO (go-imap: [SERVERBUG]) and BAD; session goes on, a good LOGIN works", run: imapAuthGarbage},
		{proto: "imap", name: "1MB-line", sends: "a 1 MiB command line",
			expects: "connection closed (go-imap's 50 KiB command limit)", run: imapLongLine},
		{proto: "imap", name: "path-traversal", sends: "CREATE/SELECT/RENAME/APPEND/STATUS/DELETE ../../x, INBOX/../../x, /abs, NUL; LOGIN ../../x",
			expects: "NO or BAD for each; nothing created", run: imapPathTraversal},
		{proto: "imap", name: "LOGIN-before-TLS", sends: "LOGIN with good credentials before STARTTLS (no InsecureAuth)",
			expects: "LOGINDISABLED; NO [PRIVACYREQUIRED]; OK after STARTTLS", configure: strictAuth, run: imapLoginBeforeTLS},
		{proto: "imap", name: "STARTTLS-injection", sends: "STARTTLS and a pipelined plaintext command in one write",
			expects: "the plaintext is never run: the handshake fails, connection closed", run: imapStartTLSInjection},
		{proto: "imap", name: "100-connections", sends: "100 simultaneous connections (limit 50)",
			expects: "50 × * OK, 50 × * BYE [UNAVAILABLE]", run: imapConnectionFlood},
	}
}

// hostileServer starts a reference server with the limits above, TLS, and
// users bob and alice (password pw). Passwords are accepted without TLS
// (InsecureAuth) unless configure says otherwise.
func hostileServer(t *testing.T, configure func(*Config)) *Server {
	t.Helper()
	serverTLS, err := certs.SelfSigned("mx.example.org")
	if err != nil {
		t.Fatal(err)
	}
	return startReferenceConfigured(t, "example.org", func(c *Config) {
		c.TLS = serverTLS
		c.JournalBytes = 4 << 20
		c.SMTP.MaxMessageBytes = hostileMaxMessage
		c.SMTP.IdleTimeout = hostileIdle
		c.SMTP.DataTimeout = hostileDataTimeout
		c.SMTP.MaxConnections = hostileSMTPConns
		c.POP3.IdleTimeout = hostileIdle
		c.IMAP.MaxConnections = hostileIMAPConns
		if configure != nil {
			configure(c)
		}
	}, "bob:pw", "alice:pw")
}

// strictAuth is the production setting: passwords only under TLS.
func strictAuth(c *Config) {
	c.InsecureAuth = false
	c.SMTP.InsecureAuth = false
	c.POP3.InsecureAuth = false
	c.IMAP.InsecureAuth = false
}

func randomHex(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// entriesOutside lists everything in the test's temporary directory tree
// (the parent of the data directory) that is not in the data directory.
func entriesOutside(t *testing.T, dataDir string) []string {
	t.Helper()
	root := filepath.Dir(dataDir)
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dataDir {
			return filepath.SkipDir
		}
		out = append(out, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkNoEscape fails the test if a file or directory whose name holds the
// case's escape marker exists in the data directory, in the system's
// temporary directory or at the root: the names the cases try to reach
// with ../, absolute paths and NUL.
func checkNoEscape(t *testing.T, dataDir, escape string) {
	t.Helper()
	filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), escape) {
			t.Errorf("%s was created in the data directory", path)
		}
		return nil
	})
	dirs := []string{os.TempDir(), "/", filepath.Dir(filepath.Dir(dataDir))}
	slices.Sort(dirs)
	for _, dir := range slices.Compact(dirs) {
		if m, _ := filepath.Glob(filepath.Join(dir, "*"+escape+"*")); len(m) > 0 {
			t.Errorf("created outside the data directory: %q", m)
		}
	}
}

// bobMessages is how many messages bob's INBOX holds.
func bobMessages(h *hostileRun) int {
	h.Helper()
	return len(mailbox(h.T, h.srv.Store(), "bob"))
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
