package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
)

// Ports of the peers harness (../shared/peers): Postfix's smtpd, Dovecot's
// POP3 and IMAP, all on loopback without TLS. Users in
// ../shared/peers/templates/users.conf.
const (
	peersPostfix = "127.0.0.1:2526"
	peersPOP3    = "127.0.0.1:2110"
	peersIMAP    = "127.0.0.1:2143"
)

// TestPeersPostfixDovecot sends through the peers' Postfix and fetches from
// their Dovecot, over IMAP and POP3: the same bytes both ways, the body's
// dot lines and an attachment intact, and the message deleted afterwards.
// It runs only with MAILCHECK_PEERS=1 and the peers answering (start them
// with ../shared/peers/postfix.sh start 2526 and dovecot.sh start 2110
// 2143); they are not Debian packages .ci/run installs.
func TestPeersPostfixDovecot(t *testing.T) {
	if os.Getenv("MAILCHECK_PEERS") != "1" {
		t.Skip("set MAILCHECK_PEERS=1 to send through the peers' Postfix (127.0.0.1:2526) and read from their Dovecot (2110, 2143)")
	}
	for name, addr := range map[string]string{"Postfix": peersPostfix, "Dovecot POP3": peersPOP3, "Dovecot IMAP": peersIMAP} {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Skipf("%s does not answer on %s (%v): start it with ../shared/peers", name, addr, err)
		}
		c.Close()
	}
	dir := t.TempDir()
	body := filepath.Join(dir, "body.txt")
	os.WriteFile(body, []byte("through Postfix\n.\n..\n.x\nto Dovecot\n"), 0o600)
	attachment := make([]byte, 3000)
	for i := range attachment {
		attachment[i] = byte(i * 13)
	}
	attach := filepath.Join(dir, "blob.bin")
	os.WriteFile(attach, attachment, 0o600)
	id := fmt.Sprintf("<peers-%d@mailcheck.test>", time.Now().UnixNano())

	send := runAgent(t, nil, "send", "smtp://"+peersPostfix, "--from", "mailcheck@example.test", "--to", "alice@example.test",
		"--subject", "peers é", "--body-file", body, "--attach", attach, "--header", "Message-ID: "+id,
		"--pipelining", "--show-transcript", "--timeout", "10s")
	t.Logf("send:\n%s%s", send.stdout, send.stderr)
	if send.err != nil {
		t.Fatalf("send through Postfix: exit %d: %v", send.code(), send.err)
	}
	imapRun := runAgent(t, nil, "fetch", "imap://alice:alicepw@"+peersIMAP, "--wait", "60s", "--header", "Message-ID: "+id, "--timeout", "10s")
	if imapRun.err != nil {
		t.Fatalf("IMAP --wait: exit %d: %v\n%s", imapRun.code(), imapRun.err, imapRun.stderr)
	}
	pop := runAgent(t, nil, "fetch", "pop3://alice:alicepw@"+peersPOP3, "--wait", "30s", "--header", "Message-ID: "+id,
		"--delete", "--show-transcript", "--timeout", "10s")
	t.Logf("POP3 fetch --delete transcript:\n%s", pop.stderr)
	if pop.err != nil {
		t.Fatalf("POP3 --wait --delete: exit %d: %v", pop.code(), pop.err)
	}
	if pop.stdout != imapRun.stdout {
		t.Errorf("Dovecot's POP3 and IMAP bytes differ:\nPOP3 %q\nIMAP %q", pop.stdout, imapRun.stdout)
	}
	r, err := mail.CreateReader(strings.NewReader(pop.stdout))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := r.Header.Subject(); s != "peers é" || r.Header.Get("Message-Id") != id {
		t.Errorf("subject %q, Message-ID %q", s, r.Header.Get("Message-Id"))
	}
	var text, blob []byte
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p.Body)
		if _, ok := p.Header.(*mail.AttachmentHeader); ok {
			blob = b
		} else {
			text = b
		}
	}
	if string(text) != "through Postfix\r\n.\r\n..\r\n.x\r\nto Dovecot\r\n" || !bytes.Equal(blob, attachment) {
		t.Errorf("text %q, attachment of %d octets intact: %v", text, len(blob), bytes.Equal(blob, attachment))
	}
	gone := runAgent(t, nil, "fetch", "imap://alice:alicepw@"+peersIMAP, "--header", "Message-ID: "+id, "--timeout", "10s")
	if gone.err != nil || strings.Count(gone.stdout, "\n") != 1 {
		t.Errorf("after POP3 --delete, IMAP still lists it: %v\n%s", gone.err, gone.stdout)
	}
}
