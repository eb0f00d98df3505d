package main

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mailcheck/mailcheck/internal/smtptest"
	"github.com/mailcheck/mailcheck/reference"
	"github.com/mailcheck/mailcheck/reference/certs"
)

// agentRun is the outcome of one send or fetch command.
type agentRun struct {
	stdout, stderr string
	err            error
}

func (r agentRun) code() int { return exitCode(r.err) }

// runAgent runs a command with stdout and stderr apart (stdout carries
// message bytes; stderr the transcript); stderr, when not nil, also gets
// what goes to stderr as it is written.
func runAgent(t *testing.T, stderr io.Writer, args ...string) agentRun {
	t.Helper()
	root := newRootCommand()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	if stderr != nil {
		root.SetErr(io.MultiWriter(&errOut, stderr))
	} else {
		root.SetErr(&errOut)
	}
	root.SetIn(strings.NewReader(""))
	root.SetArgs(args)
	err := root.Execute()
	return agentRun{out.String(), errOut.String(), err}
}

// Users of the agent's reference server, in example.org.
const (
	alicePassword = "alice-Secret-1"
	carolPassword = "carol-Secret-2"
)

// startAgentServer starts the reference server (SMTP, POP3, IMAP on
// loopback) with users alice and carol and returns it with the path of a
// PEM file of its certificate, for --ca.
func startAgentServer(t *testing.T) (*reference.Server, string) {
	t.Helper()
	serverTLS, err := certs.SelfSigned("localhost")
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: serverTLS.Certificates[0].Certificate[0]})
	if err := os.WriteFile(ca, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	srv, _, err := reference.StartLoopback(func(c *reference.Config) {
		c.TLS = serverTLS
		c.Users.Add("alice", alicePassword)
		c.Users.Add("carol", carolPassword)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		os.RemoveAll(srv.DataDir())
	})
	return srv, ca
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Each stage of an SMTP session that can fail has its own exit code: the
// scripted fake server fails exactly one stage per case.
func TestSendExitCodeByStage(t *testing.T) {
	send := []string{"--from", "alice@example.org", "--to", "bob@example.net", "--to", "carol@example.net", "--body", "hi", "--timeout", "5s"}
	tests := []struct {
		name  string
		cfg   smtptest.Config
		args  []string
		code  int
		reply string // in the error message
	}{
		{name: "connect: nothing listening", code: exitConnect},
		{name: "greeting: 554", cfg: smtptest.Config{Reply: smtptest.Refuse("GREETING", "", "554 5.3.2 no service")}, code: exitGreeting, reply: "554"},
		{name: "greeting: closed", cfg: smtptest.Config{Hangup: func(v, _ string) smtptest.Hangup {
			if v == "GREETING" {
				return smtptest.HangupClose
			}
			return smtptest.HangupNone
		}}, code: exitGreeting, reply: "closed the connection"},
		{name: "greeting: silent", args: []string{"--timeout", "300ms"}, cfg: smtptest.Config{Hangup: func(v, _ string) smtptest.Hangup {
			if v == "GREETING" {
				return smtptest.HangupSilent
			}
			return smtptest.HangupNone
		}}, code: exitGreeting, reply: "timed out"},
		{name: "EHLO: 550", cfg: smtptest.Config{Reply: smtptest.Refuse("EHLO", "", "550 5.7.1 go away")}, code: exitEHLO, reply: "550"},
		{name: "EHLO: PIPELINING not offered", args: []string{"--pipelining"}, code: exitEHLO, reply: "PIPELINING"},
		{name: "EHLO: 8BITMIME not offered", args: []string{"--8bitmime"}, code: exitEHLO, reply: "8BITMIME"},
		{name: "STARTTLS: not offered, always", args: []string{"--starttls", "always"}, code: exitTLS, reply: "does not offer STARTTLS"},
		{name: "STARTTLS: 454", cfg: smtptest.Config{TLS: &tls.Config{}, Reply: smtptest.Refuse("STARTTLS", "", "454 4.7.0 TLS not available")}, code: exitTLS, reply: "454"},
		{name: "STARTTLS: handshake fails", cfg: smtptest.Config{TLS: &tls.Config{}}, code: exitTLS, reply: "handshake"},
		{name: "AUTH: refused", cfg: smtptest.Config{Extensions: []string{"AUTH PLAIN LOGIN"}}, args: []string{"--user", "alice", "--password", "pw"}, code: exitAuth, reply: "502"},
		{name: "AUTH: not offered", args: []string{"--user", "alice", "--password", "pw"}, code: exitAuth, reply: "no AUTH"},
		{name: "MAIL: 550", cfg: smtptest.Config{Reply: smtptest.Refuse("MAIL", "", "550 5.7.1 sender refused")}, code: exitMail, reply: "550 5.7.1 sender refused"},
		{name: "RCPT: one of two refused", cfg: smtptest.Config{Reply: smtptest.Refuse("RCPT", "<carol@example.net>", "550 5.1.1 no such user")}, code: exitRcpt, reply: "<carol@example.net>: 550 5.1.1 no such user"},
		{name: "DATA: 554", cfg: smtptest.Config{Reply: smtptest.Refuse("DATA", "", "554 5.3.4 no")}, code: exitData, reply: "554"},
		{name: "DATA: message refused", cfg: smtptest.Config{Reply: smtptest.Refuse(".", "", "554 5.6.0 refused")}, code: exitData, reply: "message refused: 554 5.6.0 refused"},
		{name: "DATA: 421 at the end", cfg: smtptest.Config{Reply: smtptest.Refuse(".", "", "421 4.3.0 going down")}, code: exitData, reply: "421"},
		{name: "accepted", code: exitOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := closedAddr(t)
			var fake *smtptest.Server
			if tc.code != exitConnect {
				fake = smtptest.Start(t, tc.cfg)
				addr = fake.Addr()
			}
			r := runAgent(t, nil, append(append([]string{"send", "smtp://" + addr}, send...), tc.args...)...)
			if r.code() != tc.code || (tc.reply != "" && !strings.Contains(r.err.Error(), tc.reply)) {
				t.Fatalf("exit %d (%v), want %d with %q", r.code(), r.err, tc.code, tc.reply)
			}
			if fake == nil {
				return
			}
			switch delivered := len(fake.Messages()); {
			case tc.code == exitOK && delivered != 1:
				t.Errorf("accepted, but the server has %d messages", delivered)
			case tc.code != exitOK && delivered != 0:
				t.Errorf("exit %d, but the server took the message", tc.code)
			}
			if tc.code == exitRcpt && (fake.CountCommands("DATA") != 0 || fake.CountCommands("RSET") != 1) {
				t.Errorf("a recipient was refused, yet: %q", fake.Commands())
			}
		})
	}
}

func TestSendUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bareCR := filepath.Join(dir, "bare-cr.eml")
	os.WriteFile(bareCR, []byte("Subject: x\r\n\r\nbare\rCR\r\n"), 0o600)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("secret\n"), 0o600)
	base := []string{"send", "smtp://127.0.0.1:2525", "--from", "a@example.org", "--to", "b@example.org"}
	for _, args := range [][]string{
		{"send", "smtp://127.0.0.1:2525", "--to", "b@example.org"},
		{"send", "smtp://127.0.0.1:2525", "--from", "a@example.org"},
		{"send", "pop3://127.0.0.1:110", "--from", "a@example.org", "--to", "b@example.org"},
		{"send", "--from", "a@example.org", "--to", "b@example.org"},
		append(base, "--body", "x", "--data", bareCR),
		append(base, "--data", bareCR),
		append(base, "--data", filepath.Join(dir, "missing.eml")),
		append(base, "--data", pw, "--subject", "x"),
		append(base, "--header", "No colon"),
		append(base, "--header", "From: x@example.org"),
		append(base, "--attach", filepath.Join(dir, "missing.bin")),
		append(base, "--starttls", "sometimes"),
		append(base, "--password", "x"),
		append(base, "--user", "a"),
		append(base, "--user", "a", "--password", "x", "--password-file", pw),
		{"send", "smtp://u:p@127.0.0.1:2525", "--password", "x", "--from", "a@example.org", "--to", "b@example.org"},
		{"send", "smtp://127.0.0.1:2525", "--from", "not an address", "--to", "b@example.org"},
		{"send", "smtp://127.0.0.1:2525", "--from", "a@example.org", "--to", "bö@example.org"},
		append(base, "--ca", filepath.Join(dir, "missing.pem")),
	} {
		r := runAgent(t, nil, args...)
		var ue usageError
		if !errors.As(r.err, &ue) {
			t.Errorf("%q: %v, want a usage error (exit 2)", args, r.err)
		}
	}
}

// --data sends the file's bytes (LF line ends as CRLF); the server gets
// lines ".", "..", ".x" back exactly after its dot unstuffing, and stdout
// has the file's Message-ID and the server's reply.
func TestSendData(t *testing.T) {
	file := filepath.Join(t.TempDir(), "m.eml")
	os.WriteFile(file, []byte("Message-ID: <data@example.org>\nSubject: dots\n\n.\n..\n.x\nend"), 0o600)
	fake := smtptest.Start(t, smtptest.Config{Extensions: []string{"PIPELINING", "8BITMIME"}})
	r := runAgent(t, nil, "send", "smtp://"+fake.Addr(), "--from", "Alice <a@example.org>", "--to", "b@example.org",
		"--data", file, "--header", "X-Test: 1", "--pipelining", "--8bitmime")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.stdout != "Message-ID: <data@example.org>\n250 2.0.0 queued\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	msgs := fake.Messages()
	want := "X-Test: 1\r\nMessage-ID: <data@example.org>\r\nSubject: dots\r\n\r\n.\r\n..\r\n.x\r\nend\r\n"
	if len(msgs) != 1 || string(msgs[0].Data) != want || msgs[0].From != "FROM:<a@example.org> BODY=8BITMIME" {
		t.Errorf("received %+v\nwant data %q", msgs, want)
	}
}

// syncBuffer is a buffer written by one goroutine and read by another.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// --show-transcript shows the session on stderr, after STARTTLS and with
// AUTH, and neither the password nor its AUTH PLAIN form appears.
func TestSendTranscriptMasksAuth(t *testing.T) {
	srv, ca := startAgentServer(t)
	r := runAgent(t, nil, "send", "smtp://alice:"+alicePassword+"@"+srv.SMTPAddr(), "--ca", ca, "--starttls", "always",
		"--from", "alice@example.org", "--to", "carol@example.org", "--subject", "masked", "--body", "x", "--show-transcript")
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	for _, want := range []string{"C: STARTTLS\n", "# TLS established", "C: AUTH PLAIN ****\n", "S: 235 ", "C: <", "octets (", "of message data>\n", "C: .\n", "S: 221 "} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("transcript lacks %q:\n%s", want, r.stderr)
		}
	}
	plain := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + alicePassword))
	if strings.Contains(r.stderr, alicePassword) || strings.Contains(r.stderr, plain) {
		t.Errorf("the password or the AUTH response is in the transcript:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout, "C: ") {
		t.Errorf("the transcript went to stdout:\n%s", r.stdout)
	}
}
