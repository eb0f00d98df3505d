package imapfetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/agent/session"
	"github.com/mailcheck/mailcheck/agent/smtpsend"
	"github.com/mailcheck/mailcheck/agent/transcript"
	"github.com/mailcheck/mailcheck/reference"
	"github.com/mailcheck/mailcheck/target"
)

// The stream is cut into protocol lines and literals, however the reads
// split it: a literal's octets are data, not lines, even when they look
// like a tagged response.
func TestStreamSplitterLiterals(t *testing.T) {
	stream := "* 1 FETCH (UID 7 BODY[] {25}\r\nT9 OK fake\r\n..\r\nend {3}\r\n)\r\nT5 OK done\r\n"
	for _, chunk := range []int{1, 3, 7, len(stream)} {
		var out bytes.Buffer
		s := &streamSplitter{dir: transcript.Server, tr: transcript.New(&out, false)}
		for i := 0; i < len(stream); i += chunk {
			s.feed([]byte(stream[i:min(i+chunk, len(stream))]))
		}
		want := "S: * 1 FETCH (UID 7 BODY[] {25}\nS: <25 octets (3 lines) of literal data>\nS: )\nS: T5 OK done\n"
		if out.String() != want {
			t.Errorf("reads of %d octets:\n%s\nwant\n%s", chunk, out.String(), want)
		}
	}
}

// start runs the reference server with user alice, delivers msgs to her
// over SMTP, and returns the server and a TLS configuration that trusts
// it.
func start(t *testing.T, msgs ...string) (*reference.Server, *tls.Config) {
	t.Helper()
	srv, trust, err := reference.StartLoopback(func(c *reference.Config) { c.Users.Add("alice", password) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); os.RemoveAll(srv.DataDir()) })
	smtp, _ := target.ParseTarget("smtp://"+srv.SMTPAddr(), "")
	for _, m := range msgs {
		if _, err := smtpsend.Send(context.Background(), smtpsend.Options{
			Options: session.Options{Target: smtp, TLS: trust, Timeout: 5 * time.Second},
			From:    "x@example.org", To: []string{"alice@" + reference.LoopbackDomain},
		}, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	return srv, trust
}

// password needs IMAP quoting: a quote and a backslash.
const password = `al"ice\pw`

func dial(srv *reference.Server, trust *tls.Config, policy session.StartTLS, tr *transcript.Transcript) (*Client, error) {
	target, _ := target.ParseTarget("imap://"+srv.Addr("imap"), "")
	return Dial(context.Background(), session.Options{
		Target: target, TLS: trust, StartTLS: policy, User: "alice", Password: password,
		Timeout: 5 * time.Second, Transcript: tr,
	})
}

// STARTTLS, LOGIN, SEARCH, headers, the whole message byte for byte as the
// Maildir holds it, deletion of exactly the message asked for; the
// password never in the transcript.
func TestReferenceServer(t *testing.T) {
	srv, trust := start(t, "Subject: one\r\nMessage-ID: <one@x>\r\n\r\n.\r\n..\r\n.x\r\n", "Subject: two\r\n\r\nsecond\r\n")
	var out bytes.Buffer
	cl, err := dial(srv, trust, session.StartTLSAlways, transcript.New(&out, false))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Select("INBOX", false); err != nil {
		t.Fatal(err)
	}
	all, err := cl.Search(Criteria{})
	if err != nil || len(all) != 2 {
		t.Fatalf("SEARCH ALL: %v %v", all, err)
	}
	one, err := cl.Search(Criteria{Header: []HeaderField{{"Message-ID", "<one@x>"}}, Unseen: true})
	if err != nil || len(one) != 1 || one[0] != all[0] {
		t.Fatalf("SEARCH HEADER Message-ID: %v %v", one, err)
	}
	entries, err := cl.Headers(all)
	if err != nil || len(entries) != 2 || !bytes.Contains(entries[1].Header, []byte("Subject: two\r\n")) {
		t.Fatalf("headers: %+v %v", entries, err)
	}
	msg, err := cl.Retrieve(all[0])
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(srv.DataDir(), "mail", "alice", "new", "*"))
	var stored []byte
	for _, f := range files {
		if b, _ := os.ReadFile(f); bytes.Contains(b, []byte("<one@x>")) {
			stored = b
		}
	}
	if !bytes.Equal(msg, stored) || int64(len(msg)) != entries[0].Size {
		t.Errorf("FETCH BODY.PEEK[] gave %q\nthe maildir holds %q", msg, stored)
	}
	if _, err := cl.Retrieve(999); session.StageOf(err) != session.Retrieve {
		t.Errorf("UID 999: %v, want a failure in the retrieve stage", err)
	}
	if err := cl.Delete(one); err != nil {
		t.Fatal(err)
	}
	if left, err := cl.Search(Criteria{}); err != nil || len(left) != 1 || left[0] != all[1] {
		t.Errorf("after deleting UID %d: %v %v", one[0], left, err)
	}
	cl.Logout()
	tr := out.String()
	for _, want := range []string{"# TLS established", `LOGIN "alice" "****"`, "of literal data>", "UID EXPUNGE"} {
		if !strings.Contains(tr, want) {
			t.Errorf("transcript lacks %q:\n%s", want, tr)
		}
	}
	for _, leak := range []string{password, `al\"ice\\pw`, `"ice`} {
		if strings.Contains(tr, leak) {
			t.Errorf("password (%s) in the transcript:\n%s", leak, tr)
		}
	}
}

// Without STARTTLS the reference server disables LOGIN: the failure is in
// the auth stage and says what to do; a mailbox that does not exist fails
// the mailbox stage.
func TestStageFailures(t *testing.T) {
	srv, trust := start(t)
	_, err := dial(srv, trust, session.StartTLSNever, nil)
	if session.StageOf(err) != session.Auth || !strings.Contains(err.Error(), "LOGINDISABLED") {
		t.Errorf("plain LOGIN: %v", err)
	}
	cl, err := dial(srv, trust, session.StartTLSAuto, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Select("No-Such-Box", true); session.StageOf(err) != session.Mailbox {
		t.Errorf("SELECT No-Such-Box: %v, want the mailbox stage", err)
	}
}
