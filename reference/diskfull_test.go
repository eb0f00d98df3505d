package reference

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailcheck/mailcheck/internal/faultdisk"
	"github.com/mailcheck/mailcheck/internal/smtptest"
	"github.com/mailcheck/mailcheck/internal/smtpwire"
	"github.com/mailcheck/mailcheck/reference/durable"
	"github.com/mailcheck/mailcheck/reference/users"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// storageFault fails one storage step with one error while armed, as a
// full disk (ENOSPC), a failing one (EIO) or a read-only one (EROFS)
// would; with match set, only for paths containing it.
type storageFault struct {
	step  faultdisk.Step
	err   syscall.Errno
	match string
	armed atomic.Bool
	hits  atomic.Int32
}

func (f *storageFault) faults() *faultdisk.FS {
	return &faultdisk.FS{Base: durable.OSFS{}, Fail: func(step faultdisk.Step, path string) error {
		if f.armed.Load() && step == f.step && strings.Contains(path, f.match) {
			f.hits.Add(1)
			return f.err
		}
		return nil
	}}
}

// storageConfig is a reference server on loopback for example.org with
// bob, carol and alice (who may relay), example.net routed to relayTo.
func storageConfig(t *testing.T, dataDir string, storage durable.FS, relayTo string) Config {
	t.Helper()
	db := users.New()
	for _, a := range []string{"bob:pw", "carol:pw", "alice:secret"} {
		name, pw, _ := strings.Cut(a, ":")
		if err := db.Add(name, pw); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{
		DataDir:  dataDir,
		Hostname: "mx.example.org",
		Domains:  []string{"example.org"},
		Users:    db,
		SMTPAddr: "127.0.0.1:0",
		IMAPAddr: "127.0.0.1:0",
		POP3Addr: "127.0.0.1:0",
		// Small, so that a 100 KiB message bypasses the journal and is
		// written the direct way: both paths are tested.
		JournalBytes: 256 << 10,
		InsecureAuth: true,
		StorageFS:    storage,
	}
	if relayTo != "" {
		cfg.Routes = map[string]string{"example.net": relayTo}
	}
	cfg.SMTP.AuthFailureDelay = -1
	cfg.POP3.AuthFailureDelay = -1
	cfg.Queue.RetryBase = 50 * time.Millisecond
	cfg.Queue.RetryMax = 200 * time.Millisecond
	cfg.Queue.ConnectTimeout = 2 * time.Second
	cfg.Queue.CommandTimeout = 5 * time.Second
	return cfg
}

// startStorageServer starts cfg; the server is shut down when the test
// ends, or earlier by calling the returned stop.
func startStorageServer(t *testing.T, cfg Config) (*Server, func()) {
	t.Helper()
	srv, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}
	t.Cleanup(stop)
	return srv, stop
}

// transaction sends one message and returns the reply to its data.
func (c *smtpClient) transaction(from string, to []string, msg string) *smtpreply.Reply {
	c.t.Helper()
	c.cmd("MAIL FROM:<"+from+">", 250)
	for _, r := range to {
		c.cmd("RCPT TO:<"+r+">", 250)
	}
	c.cmd("DATA", 354)
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write(smtpwire.AppendDotStuffed(nil, []byte(msg))); err != nil {
		c.t.Fatal(err)
	}
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := smtpreply.ReadReply(c.r, true, nil)
	if err != nil {
		c.t.Fatalf("reading the reply to DATA: %v", err)
	}
	return r
}

// testMessage is a message carrying marker; big makes it 100 KiB.
func testMessage(marker string, big bool) string {
	msg := "Subject: " + marker + "\r\n\r\n" + marker + "\r\n"
	if big {
		msg += strings.Repeat(strings.Repeat("x", 70)+"\r\n", 100<<10/72)
	}
	return msg
}

// imapReader is a logged-in IMAP session with INBOX selected, kept open
// across a storage failure; every network wait is bounded by a deadline.
type imapReader struct {
	t *testing.T
	c *imapclient.Client
}

func openIMAP(t *testing.T, addr, user, pass string) *imapReader {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	c := imapclient.New(conn, nil)
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	return &imapReader{t: t, c: c}
}

// fetch returns the whole of message seq. It peeks (BODY.PEEK[]): a plain
// BODY[] also sets \Seen, a write, which fails while storage does.
func (r *imapReader) fetch(seq uint32) string {
	r.t.Helper()
	if err := r.c.Noop().Wait(); err != nil {
		r.t.Fatalf("IMAP NOOP: %v", err)
	}
	msgs, err := r.c.Fetch(imap.SeqSetNum(seq), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil || len(msgs) != 1 || len(msgs[0].BodySection) != 1 {
		r.t.Fatalf("IMAP FETCH %d: %v (%d messages)", seq, err, len(msgs))
	}
	return string(msgs[0].BodySection[0].Bytes)
}

// checkReadsWork reads bob's first message over IMAP (a session open
// since before the failure) and over a new POP3 session.
func checkReadsWork(t *testing.T, srv *Server, ir *imapReader, marker string) {
	t.Helper()
	if got := ir.fetch(1); !strings.Contains(got, marker) {
		t.Errorf("IMAP FETCH 1 gave %q, want %s", got, marker)
	}
	p := dialPOP3(t, srv.Addr("pop3"), "bob", "pw")
	if got := p.multi("RETR 1"); !strings.Contains(got, marker) {
		t.Errorf("POP3 RETR 1 gave %q, want %s", got, marker)
	}
	p.ok("QUIT")
}

// checkMailboxes checks that each user's INBOX holds messages with exactly
// the given markers, in order.
func checkMailboxes(t *testing.T, srv *Server, want map[string][]string) {
	t.Helper()
	for user, markers := range want {
		got := mailbox(t, srv.Store(), user)
		ok := len(got) == len(markers)
		for i := 0; ok && i < len(got); i++ {
			ok = strings.Contains(got[i], "Subject: "+markers[i]+"\r\n")
		}
		if !ok {
			var subjects []string
			for _, m := range got {
				_, rest, _ := strings.Cut(m, "Subject: ")
				subject, _, _ := strings.Cut(rest, "\r\n")
				subjects = append(subjects, subject)
			}
			t.Errorf("%s's INBOX holds %q, want %q", user, subjects, markers)
		}
	}
}

// filesContaining lists the files under dir, the journal aside, that
// contain marker.
func filesContaining(t *testing.T, dir, marker string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "mailcheck-journal" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(marker)) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// copyTree copies a data directory as a crash would leave it: the files
// as they are at that moment, the journal included.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStorageFailureRefusesAndRecovers makes one storage step fail while
// messages arrive for local users and for relay, then clears it. While
// it fails: every such message gets the 4xx the failure calls for (never
// 250), nothing of it is stored or queued, the session goes on (RSET), and
// IMAP and POP3 keep reading. Once it clears: the same sessions' next
// messages get 250 and are stored, or relayed, exactly once. A restart
// from a copy of the data directory taken then (as a crash would leave
// it: the journal is replayed) and a clean restart show the same
// mailboxes, without the refused message.
func TestStorageFailureRefusesAndRecovers(t *testing.T) {
	const (
		noSpace  = "452 4.3.1"
		localErr = "451 4.3.0"
	)
	for _, tc := range []struct {
		name string
		step faultdisk.Step
		err  syscall.Errno
		big  bool // 100 KiB: written directly, not through the journal
		want string
	}{
		{"disk full writing the message", faultdisk.StepWrite, syscall.ENOSPC, false, noSpace},
		{"quota exceeded writing the message", faultdisk.StepWrite, syscall.EDQUOT, false, noSpace},
		{"I/O error naming the message", faultdisk.StepPublish, syscall.EIO, false, localErr},
		{"disk full appending to the journal", faultdisk.StepJournalWrite, syscall.ENOSPC, false, noSpace},
		{"I/O error committing the journal", faultdisk.StepJournalSync, syscall.EIO, false, localErr},
		{"read-only file system", faultdisk.StepJournalWrite, syscall.EROFS, false, localErr},
		{"disk full creating a big message", faultdisk.StepCreate, syscall.ENOSPC, true, noSpace},
		{"disk full writing a big message", faultdisk.StepWrite, syscall.ENOSPC, true, noSpace},
		{"I/O error syncing a big message", faultdisk.StepSync, syscall.EIO, true, localErr},
		{"I/O error syncing the directory of a big message", faultdisk.StepDirSync, syscall.EIO, true, localErr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			relay := smtptest.Start(t, smtptest.Config{})
			dataDir := t.TempDir()
			fault := &storageFault{step: tc.step, err: tc.err}
			srv, stop := startStorageServer(t, storageConfig(t, dataDir, fault.faults(), relay.Addr()))

			local := dialSMTP(t, srv.SMTPAddr())
			local.cmd("EHLO client.example", 250)
			if r := local.transaction("carol@example.com", []string{"bob@example.org", "carol@example.org"}, testMessage("before", false)); r.Code != 250 {
				t.Fatalf("before the failure: %s", r)
			}
			ir := openIMAP(t, srv.Addr("imap"), "bob", "pw")
			relaying := dialSMTP(t, srv.SMTPAddr())
			relaying.cmd("EHLO client.example", 250)
			relaying.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==", 235)

			fault.armed.Store(true)
			refused := "refused-" + strings.ReplaceAll(tc.name, " ", "-")
			localReply := local.transaction("carol@example.com", []string{"bob@example.org", "carol@example.org"}, testMessage(refused, tc.big))
			relayReply := relaying.transaction("alice@example.org", []string{"dave@example.net"}, testMessage(refused, tc.big))
			if fault.hits.Load() == 0 {
				t.Skipf("step %s is not used here (no journal on this platform?)", tc.step)
			}
			for what, r := range map[string]*smtpreply.Reply{"local delivery": localReply, "relay": relayReply} {
				if got := fmt.Sprintf("%d %s", r.Code, r.Enhanced); got != tc.want {
					t.Errorf("%s while %s: %s, want %s", what, tc.name, r, tc.want)
				}
			}
			checkReadsWork(t, srv, ir, "before")
			local.cmd("RSET", 250)
			local.cmd("NOOP", 250)
			fault.armed.Store(false)

			if r := local.transaction("carol@example.com", []string{"bob@example.org", "carol@example.org"}, testMessage("after", tc.big)); r.Code != 250 {
				t.Fatalf("local delivery after the failure cleared: %s", r)
			}
			if r := relaying.transaction("alice@example.org", []string{"dave@example.net"}, testMessage("after", tc.big)); r.Code != 250 {
				t.Fatalf("relay after the failure cleared: %s", r)
			}
			want := map[string][]string{"bob": {"before", "after"}, "carol": {"before", "after"}}
			checkMailboxes(t, srv, want)
			if got := ir.fetch(2); !strings.Contains(got, "Subject: after\r\n") {
				t.Errorf("the IMAP session open through the failure fetches %q as message 2", got)
			}
			waitFor(t, 10*time.Second, "the queue to relay and drain", func() bool { return srv.Queue().Len() == 0 })
			relayed := relay.Messages()
			if len(relayed) != 1 || !bytes.Contains(relayed[0].Data, []byte("Subject: after\r\n")) {
				t.Errorf("relayed %d messages, want the one accepted", len(relayed))
			}
			if found := filesContaining(t, dataDir, refused); len(found) != 0 {
				t.Errorf("the refused message is stored in %q", found)
			}

			// A crash now: another server starts from a copy and replays
			// the journal.
			crashDir := t.TempDir()
			copyTree(t, dataDir, crashDir)
			crashed, stopCrashed := startStorageServer(t, storageConfig(t, crashDir, nil, ""))
			checkMailboxes(t, crashed, want)
			stopCrashed()
			if found := filesContaining(t, crashDir, refused); len(found) != 0 {
				t.Errorf("after replaying the journal, the refused message is in %q", found)
			}

			stop()
			restarted, _ := startStorageServer(t, storageConfig(t, dataDir, nil, ""))
			checkMailboxes(t, restarted, want)
		})
	}
}

// TestUnwritableDataDirAtStart: a data directory that cannot be written
// (read-only, failing) stops Start with an error that says why, not a
// server that would refuse every message; once it is writable, Start
// works, whatever the failed attempt left behind.
func TestUnwritableDataDirAtStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		step faultdisk.Step
		err  syscall.Errno
	}{
		{"read-only", faultdisk.StepCreate, syscall.EROFS},
		{"full while preallocating the journal", faultdisk.StepJournalWrite, syscall.ENOSPC},
		{"I/O error committing the journal header", faultdisk.StepJournalHeader, syscall.EIO},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			fault := &storageFault{step: tc.step, err: tc.err}
			fault.armed.Store(true)
			srv, err := Start(storageConfig(t, dataDir, fault.faults(), ""))
			if err == nil {
				srv.Shutdown(context.Background())
				if fault.hits.Load() == 0 {
					t.Skipf("step %s is not used at start-up here", tc.step)
				}
				t.Fatal("Start succeeded with an unwritable data directory")
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("Start: %v, want an error wrapping %v", err, tc.err)
			}
			if !strings.Contains(err.Error(), dataDir) {
				t.Errorf("Start: %q does not name the data directory", err)
			}
			fault.armed.Store(false)
			srv, _ = startStorageServer(t, storageConfig(t, dataDir, nil, ""))
			deliverTo(t, srv, testMessage("works", false))
			checkMailboxes(t, srv, map[string][]string{"bob": {"works"}})
		})
	}
}

// TestStorageFailureOtherSessionsGoOn: while one message is refused for
// lack of space, a session opened during the failure is served (EHLO,
// NOOP, a refused message of its own), and both deliver once space is
// back.
func TestStorageFailureOtherSessionsGoOn(t *testing.T) {
	fault := &storageFault{step: faultdisk.StepWrite, err: syscall.ENOSPC}
	srv, _ := startStorageServer(t, storageConfig(t, t.TempDir(), fault.faults(), ""))
	fault.armed.Store(true)
	var sessions []*smtpClient
	for i := range 2 {
		c := dialSMTP(t, srv.SMTPAddr())
		c.cmd("EHLO client.example", 250)
		c.cmd("NOOP", 250)
		if r := c.transaction("carol@example.com", []string{"bob@example.org"}, testMessage(fmt.Sprint("refused", i), false)); r.Code != 452 {
			t.Fatalf("session %d while the disk is full: %s", i, r)
		}
		sessions = append(sessions, c)
	}
	fault.armed.Store(false)
	for i, c := range sessions {
		if r := c.transaction("carol@example.com", []string{"bob@example.org"}, testMessage(fmt.Sprint("after", i), false)); r.Code != 250 {
			t.Fatalf("session %d after space returned: %s", i, r)
		}
	}
	checkMailboxes(t, srv, map[string][]string{"bob": {"after0", "after1"}})
}

// TestQueueFailureTakesBackLocalCopies: a message for a local user and a
// remote one is stored for the first, then cannot be queued for the
// second. The client is told 452 and will send it again to both, so the
// local copy must go, or the local user would get it twice.
func TestQueueFailureTakesBackLocalCopies(t *testing.T) {
	relay := smtptest.Start(t, smtptest.Config{})
	fault := &storageFault{step: faultdisk.StepWrite, err: syscall.ENOSPC, match: string(filepath.Separator) + "queue" + string(filepath.Separator)}
	srv, _ := startStorageServer(t, storageConfig(t, t.TempDir(), fault.faults(), relay.Addr()))
	c := dialSMTP(t, srv.SMTPAddr())
	c.cmd("EHLO client.example", 250)
	c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==", 235)
	to := []string{"bob@example.org", "dave@example.net"}
	fault.armed.Store(true)
	r := c.transaction("alice@example.org", to, testMessage("refused", false))
	fault.armed.Store(false)
	if fault.hits.Load() == 0 {
		t.Fatal("queueing never failed")
	}
	if r.Code != 452 || r.Enhanced != "4.3.1" {
		t.Errorf("while the queue cannot be written: %s, want 452 4.3.1", r)
	}
	checkMailboxes(t, srv, map[string][]string{"bob": {}})
	if r := c.transaction("alice@example.org", to, testMessage("after", false)); r.Code != 250 {
		t.Fatalf("after the fault cleared: %s", r)
	}
	checkMailboxes(t, srv, map[string][]string{"bob": {"after"}})
	waitFor(t, 10*time.Second, "the queue to relay and drain", func() bool { return srv.Queue().Len() == 0 })
	if n := len(relay.Messages()); n != 1 {
		t.Errorf("relayed %d messages, want 1", n)
	}
}
