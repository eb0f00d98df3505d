package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/mailcheck/mailcheck/reference"
)

// agentServer is the reference server of a fetch test, with the URLs of
// carol's mailbox.
type agentServer struct {
	srv        *reference.Server
	ca         string
	smtp       string // smtp://host:port
	pop3, imap string // pop3://carol:…@host:port, imap://…
}

func newAgentServer(t *testing.T) agentServer {
	srv, ca := startAgentServer(t)
	login := "carol:" + carolPassword + "@"
	return agentServer{
		srv: srv, ca: ca, smtp: "smtp://" + srv.SMTPAddr(),
		pop3: "pop3://" + login + srv.Addr("pop3"), imap: "imap://" + login + srv.Addr("imap"),
	}
}

// send sends a message to carol and returns its Message-ID.
func (s agentServer) send(t *testing.T, args ...string) string {
	t.Helper()
	r := runAgent(t, nil, append([]string{"send", s.smtp, "--ca", s.ca, "--from", "Alice <alice@example.org>", "--to", "carol@example.org"}, args...)...)
	if r.err != nil {
		t.Fatalf("send: %v\n%s", r.err, r.stderr)
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(r.stdout, "Message-ID: "), "\n")
	return id
}

// fetch runs fetch on url with the server's CA.
func (s agentServer) fetch(t *testing.T, url string, args ...string) agentRun {
	t.Helper()
	return runAgent(t, nil, append([]string{"fetch", url, "--ca", s.ca}, args...)...)
}

// receivedFields matches the trace fields the server puts on top of a
// message (RFC 5321 §4.4), folded lines included.
var receivedFields = regexp.MustCompile(`^(Received:[^\r\n]*\r\n([ \t][^\r\n]*\r\n)*)+`)

// send → reference server → fetch over POP3 and over IMAP: both return the
// same bytes, the bytes the Maildir holds; the body's lines ".", "..",
// ".x" and the attachments survive; with --data the message is exactly
// the file's after the server's Received field.
func TestSendFetchRoundTrip(t *testing.T) {
	s := newAgentServer(t)
	dir := t.TempDir()
	bodyFile := filepath.Join(dir, "body.txt")
	os.WriteFile(bodyFile, []byte("first\n.\n..\n.x\n...\nlast"), 0o600)
	binary := make([]byte, 5000)
	for i := range binary {
		binary[i] = byte(i*31 + i/7)
	}
	binFile := filepath.Join(dir, "data.bin")
	os.WriteFile(binFile, binary, 0o600)
	textFile := filepath.Join(dir, "notes.txt")
	os.WriteFile(textFile, []byte(".\nFrom me\n"), 0o600)

	id := s.send(t, "--subject", "Round trip é", "--body-file", bodyFile, "--attach", binFile, "--attach", textFile, "--header", "X-Test: 1")

	pop := s.fetch(t, s.pop3, "--message", "1")
	if pop.err != nil {
		t.Fatal(pop.err)
	}
	out := filepath.Join(dir, "imap")
	imapRun := s.fetch(t, s.imap, "--all", "--output", out)
	if imapRun.err != nil {
		t.Fatal(imapRun.err)
	}
	emlPath := filepath.Join(out, "1.eml")
	if imapRun.stdout != emlPath+"\n" {
		t.Errorf("fetch --output printed %q, want %q", imapRun.stdout, emlPath)
	}
	eml, err := os.ReadFile(emlPath)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := filepath.Glob(filepath.Join(s.srv.DataDir(), "mail", "carol", "new", "*"))
	if len(stored) != 1 {
		t.Fatalf("maildir: %v", stored)
	}
	onDisk, _ := os.ReadFile(stored[0])
	if pop.stdout != string(eml) || !bytes.Equal(eml, onDisk) {
		t.Fatalf("POP3, IMAP and the Maildir differ:\nPOP3 %q\nIMAP %q\ndisk %q", pop.stdout, eml, onDisk)
	}

	r, err := mail.CreateReader(bytes.NewReader(eml))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Header.Subject(); got != "Round trip é" || r.Header.Get("X-Test") != "1" || r.Header.Get("Message-Id") != id {
		t.Errorf("header: subject %q, X-Test %q, Message-ID %q (sent %s)", got, r.Header.Get("X-Test"), r.Header.Get("Message-Id"), id)
	}
	parts := map[string][]byte{}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p.Body)
		name := "text"
		if h, ok := p.Header.(*mail.AttachmentHeader); ok {
			name, _ = h.Filename()
		}
		parts[name] = b
	}
	if got := string(parts["text"]); got != "first\r\n.\r\n..\r\n.x\r\n...\r\nlast\r\n" {
		t.Errorf("text part %q", got)
	}
	if !bytes.Equal(parts["data.bin"], binary) || string(parts["notes.txt"]) != ".\nFrom me\n" {
		t.Errorf("attachments do not survive: %d parts", len(parts))
	}

	// A whole message from a file comes back as the file, after the
	// trace fields the server adds.
	dataFile := filepath.Join(dir, "whole.eml")
	os.WriteFile(dataFile, []byte("Message-ID: <whole@example.org>\nSubject: whole\n\n.\n..\n.x\nFrom the file\n"), 0o600)
	s.send(t, "--data", dataFile)
	for _, url := range []string{s.pop3, s.imap} {
		got := s.fetch(t, url, "--wait", "10s", "--header", "Message-ID: <whole@example.org>")
		if got.err != nil {
			t.Fatal(got.err)
		}
		trace := receivedFields.FindString(got.stdout)
		if trace == "" || got.stdout[len(trace):] != "Message-ID: <whole@example.org>\r\nSubject: whole\r\n\r\n.\r\n..\r\n.x\r\nFrom the file\r\n" {
			t.Errorf("%s: fetched %q", url, got.stdout)
		}
	}
}

func TestFetchListing(t *testing.T) {
	s := newAgentServer(t)
	s.send(t, "--subject", "first one", "--body", "1")
	s.send(t, "--subject", "Grüße", "--body", "2")
	for _, tc := range []struct{ url, id string }{{s.pop3, "NUM"}, {s.imap, "UID"}} {
		r := s.fetch(t, tc.url)
		if r.err != nil {
			t.Fatal(r.err)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 3 || !regexp.MustCompile(`^`+tc.id+` +SIZE +DATE +FROM +SUBJECT$`).MatchString(lines[0]) ||
			!regexp.MustCompile(`^1 +\d+ +\w\w\w, .* Alice <alice@example.org> +first one$`).MatchString(lines[1]) ||
			!regexp.MustCompile(`^2 +\d+ .* Grüße$`).MatchString(lines[2]) {
			t.Errorf("%s listing:\n%s", tc.url, r.stdout)
		}
	}
	// IMAP searches: everything is unseen (fetching peeks); nothing
	// arrived after a day in the far future.
	if r := s.fetch(t, s.imap, "--unseen", "--since", "48h"); strings.Count(r.stdout, "\n") != 3 {
		t.Errorf("--unseen --since 48h:\n%s %v", r.stdout, r.err)
	}
	if r := s.fetch(t, s.imap, "--since", "2999-01-01"); strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("--since 2999-01-01:\n%s %v", r.stdout, r.err)
	}
	if r := s.fetch(t, s.imap, "--subject", "Grüße"); strings.Count(r.stdout, "\n") != 2 || !strings.Contains(r.stdout, "Grüße") {
		t.Errorf("--subject Grüße:\n%s %v", r.stdout, r.err)
	}
	// --all to stdout is an mboxrd stream of both.
	if r := s.fetch(t, s.pop3, "--all"); strings.Count(r.stdout, "From mailcheck ") != 2 || r.err != nil {
		t.Errorf("--all:\n%s %v", r.stdout, r.err)
	}
	if r := s.fetch(t, s.pop3, "--message", "3"); r.code() != exitFailure || !strings.Contains(r.err.Error(), "no message 3") {
		t.Errorf("--message 3 of 2: exit %d %v", r.code(), r.err)
	}
}

// --delete deletes exactly what was fetched, once written; --keep (the
// default) leaves it.
func TestFetchDelete(t *testing.T) {
	s := newAgentServer(t)
	for _, subject := range []string{"one", "two", "three", "four"} {
		s.send(t, "--subject", subject, "--body", subject)
	}
	dir := t.TempDir()
	if r := s.fetch(t, s.pop3, "--message", "2", "--output", dir, "--delete"); r.err != nil {
		t.Fatal(r.err)
	}
	if r := s.fetch(t, s.imap, "--wait", "5s", "--subject", "four", "--delete", "--keep"); r.code() != exitCannotRun {
		t.Errorf("--delete --keep: exit %d", r.code())
	}
	if r := s.fetch(t, s.imap, "--wait", "5s", "--subject", "four", "--delete"); r.err != nil || !strings.Contains(r.stdout, "\r\n\r\nfour\r\n") {
		t.Fatalf("IMAP --wait --delete: %v\n%s", r.err, r.stdout)
	}
	if r := s.fetch(t, s.imap, "--message", "1"); r.err != nil || !strings.Contains(r.stdout, "Subject: one") {
		t.Errorf("--message 1 (kept): %v", r.err)
	}
	r := s.fetch(t, s.imap)
	if r.err != nil || strings.Count(r.stdout, "\n") != 3 || !strings.Contains(r.stdout, " one\n") || !strings.Contains(r.stdout, " three\n") {
		t.Errorf("left after deleting two and four:\n%s %v", r.stdout, r.err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("--output: %v", files)
	}
	if b, _ := os.ReadFile(files[0]); !bytes.Contains(b, []byte("Subject: two\r\n")) {
		t.Errorf("%s holds %q", files[0], b)
	}

	// A message that cannot be written (its .eml name is taken by a
	// directory) is not deleted: exit 1, and it is still there.
	blocked := t.TempDir()
	os.MkdirAll(filepath.Join(blocked, "1.eml", "occupied"), 0o755)
	if r := s.fetch(t, s.imap, "--message", "1", "--output", blocked, "--delete"); r.code() != exitFailure {
		t.Errorf("writing over a directory: exit %d (%v), want 1", r.code(), r.err)
	}
	if r := s.fetch(t, s.imap, "--message", "1"); r.err != nil || !strings.Contains(r.stdout, "Subject: one") {
		t.Errorf("the message that could not be written was deleted: %v", r.err)
	}
}

// notifyWriter signals once what is written contains a string.
type notifyWriter struct {
	buf  syncBuffer
	want string
	seen chan struct{}
	once bool
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if !w.once && strings.Contains(w.buf.String(), w.want) {
		w.once = true
		close(w.seen)
	}
	return len(p), nil
}

// --wait finds a message that arrives while it polls, and gives up with
// exit 21 and a clear message when none does.
func TestFetchWait(t *testing.T) {
	s := newAgentServer(t)
	s.send(t, "--subject", "an earlier message", "--body", "x")
	for _, url := range []string{s.pop3, s.imap} {
		proto, _, _ := strings.Cut(url, ":")
		t.Run(proto, func(t *testing.T) {
			id := "<late-" + proto + "@example.org>"
			stderr := &notifyWriter{want: "waiting up to", seen: make(chan struct{})}
			done := make(chan agentRun, 1)
			go func() {
				done <- runAgent(t, stderr, "fetch", url, "--ca", s.ca, "--wait", "60s", "--header", "Message-ID: "+id, "--delete")
			}()
			select {
			case <-stderr.seen: // the first poll found nothing
			case r := <-done:
				t.Fatalf("returned before the message was sent: %v\n%s", r.err, r.stdout)
			case <-time.After(30 * time.Second):
				t.Fatal("no poll within 30s")
			}
			s.send(t, "--subject", "late", "--body", "arrived", "--header", "Message-ID: "+id)
			select {
			case r := <-done:
				if r.err != nil || !strings.Contains(r.stdout, "Message-ID: "+id+"\r\n") || !strings.HasSuffix(r.stdout, "\r\n\r\narrived\r\n") {
					t.Errorf("exit %d %v\n%s", r.code(), r.err, r.stdout)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("--wait did not return within 30s of the message's arrival")
			}
		})
	}
	for _, url := range []string{s.pop3, s.imap} {
		r := s.fetch(t, url, "--wait", "300ms", "--header", "Message-ID: <never@example.org>")
		if r.code() != exitWaitTimeout || !strings.Contains(r.err.Error(), "no message matching Message-ID: <never@example.org> arrived within 300ms") {
			t.Errorf("%s: exit %d, %v", url, r.code(), r.err)
		}
	}
}

// --show-transcript shows POP3 and IMAP sessions with the passwords masked.
func TestFetchTranscriptMasksPasswords(t *testing.T) {
	s := newAgentServer(t)
	s.send(t, "--subject", "x", "--body", "x")
	for _, tc := range []struct{ url, want string }{
		{s.pop3, "C: PASS ****\n"},
		{s.imap, `C: T2 LOGIN "carol" "****"` + "\n"},
	} {
		r := s.fetch(t, tc.url, "--message", "1", "--show-transcript")
		if r.err != nil {
			t.Fatal(r.err)
		}
		if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "of message data>") && !strings.Contains(r.stderr, "of literal data>") {
			t.Errorf("transcript lacks %q:\n%s", tc.want, r.stderr)
		}
		if strings.Contains(r.stderr, carolPassword) {
			t.Errorf("the password is in the transcript:\n%s", r.stderr)
		}
	}
}

// scriptedPOP3 serves POP3 sessions on loopback: a command gets the reply
// scripted for it (lines joined by \n, CRLF added); USER, PASS, LIST
// (one message of 20 octets), UIDL and QUIT have defaults.
func scriptedPOP3(t *testing.T, replies map[string]string) string {
	t.Helper()
	defaults := map[string]string{"USER": "+OK", "PASS": "+OK", "LIST": "+OK\n1 20\n.", "UIDL": "+OK\n1 u1\n.", "QUIT": "+OK", "CAPA": "+OK\nUSER\nUIDL\nTOP\n."}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(5 * time.Second))
				r := bufio.NewReader(conn)
				conn.Write([]byte("+OK fake\r\n"))
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					cmd := strings.TrimRight(line, "\r\n")
					verb, _, _ := strings.Cut(cmd, " ")
					reply, ok := replies[cmd]
					if !ok {
						if reply, ok = defaults[verb]; !ok {
							reply = "-ERR unknown"
						}
					}
					conn.Write([]byte(strings.ReplaceAll(reply, "\n", "\r\n") + "\r\n"))
					if verb == "QUIT" {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// Each stage of a POP3 or IMAP session that can fail has its own exit code.
func TestFetchExitCodeByStage(t *testing.T) {
	s := newAgentServer(t)
	s.send(t, "--subject", "x", "--body", "x")
	fake := scriptedPOP3(t, map[string]string{"RETR 1": "-ERR message vanished"})
	undeletable := scriptedPOP3(t, map[string]string{"RETR 1": "+OK\nSubject: x\n\nbody\n.", "DELE 1": "-ERR cannot delete"})
	wrong := "pop3://carol:wrong@" + s.srv.Addr("pop3")
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"connect", []string{"pop3://carol:pw@" + closedAddr(t)}, exitConnect},
		{"greeting: an SMTP server", []string{"pop3://carol:pw@" + s.srv.SMTPAddr()}, exitGreeting},
		{"TLS: pop3s on a plain port", []string{"pop3s://carol:pw@" + s.srv.Addr("pop3")}, exitTLS},
		{"TLS: always, not offered", []string{"pop3://carol:pw@" + fake, "--starttls", "always"}, exitTLS},
		{"auth: wrong password", []string{wrong}, exitAuth},
		{"mailbox: no such IMAP mailbox", []string{s.imap + "/No-Such-Box"}, exitMailbox},
		{"retrieve: RETR refused", []string{"pop3://carol:pw@" + fake, "--message", "1"}, exitRetrieve},
		{"delete: DELE refused", []string{"pop3://carol:pw@" + undeletable, "--message", "1", "--delete", "--output", t.TempDir()}, exitDelete},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.fetch(t, tc.args[0], append(tc.args[1:], "--timeout", "5s")...)
			if r.code() != tc.code {
				t.Errorf("exit %d (%v), want %d", r.code(), r.err, tc.code)
			}
		})
	}
}

func TestFetchUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"fetch"},
		{"fetch", "smtp://u:p@127.0.0.1:25"},
		{"fetch", "pop3://127.0.0.1:110"},
		{"fetch", "pop3://u@127.0.0.1:110"},
		{"fetch", "pop3://u:p@127.0.0.1:110", "--delete"},
		{"fetch", "pop3://u:p@127.0.0.1:110", "--output", "dir"},
		{"fetch", "pop3://u:p@127.0.0.1:110", "--message", "1", "--all"},
		{"fetch", "pop3://u:p@127.0.0.1:110", "--wait", "1s"},
		{"fetch", "pop3://u:p@127.0.0.1:110", "--all", "--delete", "--keep"},
		{"fetch", "pop3://u:p@127.0.0.1:110", "--unseen"},
		{"fetch", "pop3://u:p@127.0.0.1:110/Archive"},
		{"fetch", "imap://u:p@127.0.0.1:143", "--since", "yesterday"},
		{"fetch", "imap://u:p@127.0.0.1:143", "--header", "Message-ID"},
		{"fetch", "imap://u:p@127.0.0.1:143", "--password", "p"},
	} {
		r := runAgent(t, nil, args...)
		var ue usageError
		if !errors.As(r.err, &ue) {
			t.Errorf("%q: %v, want a usage error (exit 2)", args, r.err)
		}
	}
}
