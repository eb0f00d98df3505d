package reference

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/smtpwire"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// The clients of TestHostileInput: wire, the hostile one, which fails the
// test on a network error; and the well-behaved one, which runs in its own
// goroutine and returns errors.

// wire is a line-level client of any of the three protocols, with a
// deadline on every read and write; it fails the test on a network error.
type wire struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialWire(t *testing.T, addr string) *wire {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &wire{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (w *wire) send(s string) {
	w.t.Helper()
	w.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(w.conn, s); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

// sendAsync writes s from another goroutine, for input large enough that
// the server's replies must be read while it is still being written.
func (w *wire) sendAsync(s string) <-chan error {
	done := make(chan error, 1)
	go func() {
		w.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err := io.WriteString(w.conn, s)
		done <- err
	}()
	return done
}

// line reads one line without its CRLF.
func (w *wire) line() string {
	w.t.Helper()
	w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := w.r.ReadString('\n')
	if err != nil {
		w.t.Fatalf("read (after %q): %v", l, err)
	}
	return strings.TrimRight(l, "\r\n")
}

// expectPrefix reads one line and fails unless it starts with prefix.
func (w *wire) expectPrefix(prefix string) string {
	w.t.Helper()
	l := w.line()
	if !strings.HasPrefix(l, prefix) {
		w.t.Fatalf("got %q, want %q…", l, prefix)
	}
	return l
}

// reply reads one SMTP reply and checks its code and enhanced code ("" for
// any).
func (w *wire) reply(code int, enhanced string) *smtpreply.Reply {
	w.t.Helper()
	w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := smtpreply.ReadReply(w.r, true, nil)
	if err != nil {
		w.t.Fatalf("reading a reply (want %d): %v", code, err)
	}
	if r.Code != code || enhanced != "" && r.Enhanced != enhanced {
		w.t.Fatalf("got %s, want %d %s", r, code, enhanced)
	}
	return r
}

// cmd sends an SMTP command line and checks the reply.
func (w *wire) cmd(line string, code int, enhanced string) *smtpreply.Reply {
	w.t.Helper()
	w.send(line + "\r\n")
	return w.reply(code, enhanced)
}

// closed reports whether the server closes the connection within 10s,
// discarding what it sends before.
func (w *wire) closed() bool {
	w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, w.r)
	var ne net.Error
	return err == nil || !(errors.As(err, &ne) && ne.Timeout())
}

// startTLS runs the client side of the TLS handshake.
func (w *wire) startTLS(cfg *tls.Config) error {
	tc := tls.Client(w.conn, cfg)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		return err
	}
	w.conn, w.r = tc, bufio.NewReader(tc)
	return nil
}

// smtpReady dials SMTP and says EHLO.
func smtpReady(h *hostileRun) *wire {
	h.Helper()
	w := dialWire(h.T, h.srv.SMTPAddr())
	w.reply(220, "")
	w.cmd("EHLO client.example", 250, "")
	return w
}

// pop3Login dials POP3 and logs in as user.
func pop3Login(h *hostileRun, user string) *wire {
	h.Helper()
	w := dialWire(h.T, h.srv.Addr("pop3"))
	w.expectPrefix("+OK")
	w.send("USER " + user + "\r\n")
	w.expectPrefix("+OK")
	w.send("PASS pw\r\n")
	w.expectPrefix("+OK")
	return w
}

// imapTagged reads IMAP responses up to the one tagged tag and returns it
// and the untagged ones before it.
func (w *wire) imapTagged(tag string) (string, []string) {
	w.t.Helper()
	var untagged []string
	for i := 0; i < 10000; i++ {
		l := w.line()
		if strings.HasPrefix(l, tag+" ") {
			return l, untagged
		}
		untagged = append(untagged, l)
	}
	w.t.Fatalf("no response tagged %s", tag)
	return "", nil
}

// imapCmd sends "tag command" and fails unless the tagged response starts
// with "tag want".
func (w *wire) imapCmd(tag, command, want string) (string, []string) {
	w.t.Helper()
	w.send(tag + " " + command + "\r\n")
	resp, untagged := w.imapTagged(tag)
	if !strings.HasPrefix(resp, tag+" "+want) {
		w.t.Fatalf("%s %s: got %q, want %s…", tag, command, resp, want)
	}
	return resp, untagged
}

// imapLogin dials IMAP and logs in as user.
func imapLogin(h *hostileRun, user string) *wire {
	h.Helper()
	w := dialWire(h.T, h.srv.Addr("imap"))
	w.expectPrefix("* OK")
	w.imapCmd("L", "LOGIN "+user+" pw", "OK")
	return w
}

// plainAuth is an AUTH PLAIN initial response.
func plainAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

// wellBehaved runs a well-behaved client beside a hostile one: an SMTP
// delivery to alice, then the message read back over proto (SMTP: from the
// store). It returns what went wrong; it must not touch the *testing.T of
// the case, whose goroutine it does not run in.
func wellBehaved(srv *Server, proto string) error {
	marker := fmt.Sprintf("well-behaved-%d", time.Now().UnixNano())
	if err := deliverPolitely(srv.SMTPAddr(), marker); err != nil {
		return fmt.Errorf("SMTP delivery: %w", err)
	}
	switch proto {
	case "pop3":
		return readBackPOP3(srv.Addr("pop3"), marker)
	case "imap":
		return readBackIMAP(srv.Addr("imap"), marker)
	}
	mb, err := srv.Store().Inbox("alice")
	if err != nil {
		return err
	}
	msgs, err := mb.Messages()
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if data, err := mb.Read(m.UID); err == nil && strings.Contains(string(data), marker) {
			return nil
		}
	}
	return fmt.Errorf("message %s not in alice's INBOX", marker)
}

// politeConn is the well-behaved client's connection: errors, not test
// failures.
type politeConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialPolite(addr string) (*politeConn, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	return &politeConn{conn: conn, r: bufio.NewReader(conn)}, nil
}

// exchange sends line (unless empty) and reads one line, which must start
// with want.
func (p *politeConn) exchange(line, want string) (string, error) {
	if line != "" {
		if _, err := io.WriteString(p.conn, line+"\r\n"); err != nil {
			return "", err
		}
	}
	got, err := p.r.ReadString('\n')
	if err != nil {
		return got, fmt.Errorf("after %q: %w", line, err)
	}
	if !strings.HasPrefix(got, want) {
		return got, fmt.Errorf("%q answered %q, want %s…", line, got, want)
	}
	return got, nil
}

func deliverPolitely(addr, marker string) error {
	return deliverPolitelyTo(addr, "alice@example.org", "Subject: "+marker+"\r\n\r\nhello\r\n")
}

// deliverPolitelyTo sends msg (CRLF lines) to rcpt in one SMTP session.
func deliverPolitelyTo(addr, rcpt, msg string) error {
	p, err := dialPolite(addr)
	if err != nil {
		return err
	}
	defer p.conn.Close()
	r, err := smtpreply.ReadReply(p.r, true, nil)
	if err != nil || r.Code != 220 {
		return fmt.Errorf("greeting %v, %v", r, err)
	}
	for _, step := range []struct {
		line string
		code int
	}{
		{"EHLO polite.example", 250}, {"MAIL FROM:<carol@example.net>", 250}, {"RCPT TO:<" + rcpt + ">", 250},
		{"DATA", 354}, {strings.TrimSuffix(string(smtpwire.AppendDotStuffed(nil, []byte(msg))), "\r\n"), 250}, {"QUIT", 221},
	} {
		io.WriteString(p.conn, step.line+"\r\n")
		r, err := smtpreply.ReadReply(p.r, true, nil)
		if err != nil || r.Code != step.code {
			return fmt.Errorf("%q: got %v, %v; want %d", step.line, r, err, step.code)
		}
	}
	return nil
}

// politeTLS is how the well-behaved client checks the server: it does
// not, as the server's certificate is self-signed for the test.
var politeTLS = &tls.Config{InsecureSkipVerify: true}

// startTLS upgrades the connection after the server's go-ahead.
func (p *politeConn) startTLS() error {
	tc := tls.Client(p.conn, politeTLS)
	tc.SetDeadline(time.Now().Add(20 * time.Second))
	if err := tc.Handshake(); err != nil {
		return err
	}
	p.conn, p.r = tc, bufio.NewReader(tc)
	return nil
}

// readBackPOP3 logs in over STLS, as a careful client does, and finds the
// message.
func readBackPOP3(addr, marker string) error {
	p, err := dialPolite(addr)
	if err != nil {
		return err
	}
	defer p.conn.Close()
	if _, err := p.exchange("", "+OK"); err != nil {
		return err
	}
	if _, err := p.exchange("STLS", "+OK"); err != nil {
		return err
	}
	if err := p.startTLS(); err != nil {
		return err
	}
	if _, err := p.exchange("USER alice", "+OK"); err != nil {
		return err
	}
	if _, err := p.exchange("PASS pw", "+OK"); err != nil {
		return err
	}
	stat, err := p.exchange("STAT", "+OK")
	if err != nil {
		return err
	}
	var n, octets int
	fmt.Sscanf(stat, "+OK %d %d", &n, &octets)
	if _, err := p.exchange(fmt.Sprintf("RETR %d", n), "+OK"); err != nil {
		return err
	}
	var body strings.Builder
	for i := 0; i < 1000; i++ {
		l, err := p.r.ReadString('\n')
		if err != nil {
			return err
		}
		if l == ".\r\n" {
			break
		}
		body.WriteString(l)
	}
	if !strings.Contains(body.String(), marker) {
		return fmt.Errorf("RETR %d: %q lacks %s", n, body.String(), marker)
	}
	_, err = p.exchange("QUIT", "+OK")
	return err
}

// readBackIMAP logs in over STARTTLS and finds the message.
func readBackIMAP(addr, marker string) error {
	p, err := dialPolite(addr)
	if err != nil {
		return err
	}
	defer p.conn.Close()
	if _, err := p.exchange("", "* OK"); err != nil {
		return err
	}
	tagged := func(tag, cmd string) ([]string, error) {
		io.WriteString(p.conn, tag+" "+cmd+"\r\n")
		var lines []string
		for i := 0; i < 1000; i++ {
			l, err := p.r.ReadString('\n')
			if err != nil {
				return lines, err
			}
			if strings.HasPrefix(l, tag+" ") {
				if !strings.HasPrefix(l, tag+" OK") {
					return lines, fmt.Errorf("%s: %q", cmd, l)
				}
				return lines, nil
			}
			lines = append(lines, l)
		}
		return lines, fmt.Errorf("%s: no tagged response", cmd)
	}
	if _, err := tagged("s", "STARTTLS"); err != nil {
		return err
	}
	if err := p.startTLS(); err != nil {
		return err
	}
	if _, err := tagged("a", "LOGIN alice pw"); err != nil {
		return err
	}
	if _, err := tagged("b", "SELECT INBOX"); err != nil {
		return err
	}
	lines, err := tagged("c", "UID SEARCH SUBJECT "+marker)
	if err != nil {
		return err
	}
	found := slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "* SEARCH ") && len(l) > len("* SEARCH \r\n") })
	if !found {
		return fmt.Errorf("SEARCH SUBJECT %s found nothing: %q", marker, lines)
	}
	_, err = tagged("d", "LOGOUT")
	return err
}
