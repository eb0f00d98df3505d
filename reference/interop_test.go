package reference

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Real third-party clients submit to the reference server: if the server's
// strictness broke a widely used client, these would say so.

func TestInteropPythonSmtplib(t *testing.T) {
	python := needTool(t, "python3")
	srv := startReference(t, "example.org", nil, "alice:secret", "bob:pw")
	host, port, _ := strings.Cut(srv.SMTPAddr(), ":")
	script := writeFile(t, t.TempDir(), "send.py", `
import smtplib, sys
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "alice@example.org"
m["To"] = "bob@example.org"
m["Subject"] = "from smtplib"
m.set_content(".leading dot\n..two dots\nplain\n")
with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), local_hostname="client.example", timeout=10) as s:
    s.ehlo()
    s.login("alice", "secret")
    s.send_message(m)
    # A second message over the same session.
    s.sendmail("alice@example.org", ["bob@example.org"], "Subject: second\r\n\r\nbody\r\n")
`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, python, script, host, port).CombinedOutput(); err != nil {
		t.Fatalf("smtplib: %v\n%s", err, out)
	}
	msgs := mailbox(t, srv.Store(), "bob")
	if len(msgs) != 2 {
		t.Fatalf("bob has %d messages, want 2", len(msgs))
	}
	if !strings.Contains(msgs[0], "\r\n.leading dot\r\n..two dots\r\n") || !strings.Contains(msgs[0], "with ESMTPA") {
		t.Errorf("first message:\n%s", msgs[0])
	}
}

func TestInteropSwaks(t *testing.T) {
	swaks := needTool(t, "swaks")
	srv := startReference(t, "example.org", nil, "alice:secret", "bob:pw")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, swaks, "--server", srv.SMTPAddr(), "--helo", "client.example",
		"--pipeline", "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "secret",
		"--from", "alice@example.org", "--to", "bob@example.org", "--header", "Subject: from swaks",
		"--body", "swaks body").CombinedOutput()
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	msgs := mailbox(t, srv.Store(), "bob")
	if len(msgs) != 1 || !strings.Contains(msgs[0], "Subject: from swaks") {
		t.Fatalf("bob's mailbox: %q", msgs)
	}
	// swaks also confirms the server refuses an unauthenticated relay.
	out, err = exec.CommandContext(ctx, swaks, "--server", srv.SMTPAddr(), "--helo", "client.example",
		"--from", "x@example.com", "--to", "y@elsewhere.example", "--quit-after", "RCPT").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "554 5.7.1") {
		t.Errorf("relay attempt not refused with 554 5.7.1: %v\n%s", err, out)
	}
}

func TestInteropCurl(t *testing.T) {
	curl := needTool(t, "curl")
	srv := startReference(t, "example.org", nil, "alice:secret", "bob:pw")
	msg := writeFile(t, t.TempDir(), "msg.txt", "From: alice@example.org\r\nTo: bob@example.org\r\nSubject: from curl\r\n\r\n.dot line\r\nbody\r\n")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, curl, "-sS", "--max-time", "20", "smtp://"+srv.SMTPAddr()+"/client.example",
		"--user", "alice:secret", "--login-options", "AUTH=PLAIN",
		"--mail-from", "alice@example.org", "--mail-rcpt", "bob@example.org", "--upload-file", msg).CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	msgs := mailbox(t, srv.Store(), "bob")
	if len(msgs) != 1 || !strings.HasSuffix(msgs[0], "Subject: from curl\r\n\r\n.dot line\r\nbody\r\n") {
		t.Fatalf("bob's mailbox: %q", msgs)
	}
}
