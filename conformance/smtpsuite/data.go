package smtpsuite

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/readback"
	"github.com/mailcheck/mailcheck/internal/smtpwire"
)

var dataChecks = []*engine.Check{
	{
		ID: "smtp.data.dot-termination", Title: "Only CRLF.CRLF ends DATA; dots inside or stuffed at the start of lines do not", Spec: "RFC 5321 §4.1.1.4, §4.5.2", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			if !needRcpt(t) {
				return nil
			}
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			body := testMessage(t, "dot-termination", nonce(), "..stuffed\r\na . b\r\nends with a dot.\r\n.\r\n")
			r, ok, err := s.transaction("", smtpwire.AppendDotStuffed(nil, []byte(body)), "sending a message")
			if !ok || err != nil {
				return err
			}
			if r.Code != 250 {
				t.Fail("the message got %s, want 250", r)
				return nil
			}
			return expectInSync(t, s, "a line starting with a stuffed dot or holding a dot ended DATA early")
		},
	},
	{
		ID: "smtp.data.bare-lf-dot", Title: "A bare-LF \"\\n.\\n\" does not end DATA (no SMTP smuggling)", Spec: "RFC 5321 §2.3.8, §4.1.1.4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			// Everything after "\n.\n" is data. A server that ends DATA
			// there runs "NOOP" as a command: the smuggled transaction.
			return smuggledCommand(ctx, t, "bare-lf-dot", "before\n.\nNOOP\r\nafter\r\n", `"\n.\n"`)
		},
	},
	{
		ID: "smtp.data.lf-dot-crlf", Title: "A bare LF then \".\" CRLF (\"\\n.\\r\\n\") does not end DATA (no SMTP smuggling)", Spec: "RFC 5321 §2.3.8, §4.1.1.4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			// Only CRLF ends a line (§2.3.8), so only CRLF "." CRLF ends
			// the data (§4.1.1.4). A server that takes the bare LF for a
			// line end sees "\n.\r\n" as the end and runs "NOOP" as a
			// command: the variant of SMTP smuggling that a receiver
			// refusing "\n.\n" can still fall for.
			return smuggledCommand(ctx, t, "lf-dot-crlf", "before\n.\r\nNOOP\r\nafter\r\n", `"\n.\r\n"`)
		},
	},
	{
		ID: "smtp.data.transparency", Title: "A line \"..x\" arrives as \".x\" (read back)", Spec: "RFC 5321 §4.5.2", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			got, sent, err := sendAndReadBack(ctx, t, "transparency", "", ".x\r\n..\r\n.\r\nplain\r\n")
			if err != nil || got == nil {
				return err
			}
			// Compare bodies: servers may add header fields (trace
			// headers, or fields they think missing).
			if body, want := bodyOf(got), bodyOf([]byte(sent)); !bytes.Equal(body, want) {
				t.Fail("the body read back is not the one sent: dot-stuffing was not undone exactly (sent %q, read back %q)", want, body)
			}
			return nil
		},
	},
	{
		ID: "smtp.received.added", Title: "The server adds a Received trace header", Spec: "RFC 5321 §4.4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			got, _, err := sendAndReadBack(ctx, t, "received", "", "body\r\n")
			if err != nil || got == nil {
				return err
			}
			header, _, _ := bytes.Cut(got, []byte("\r\n\r\n"))
			if !bytes.HasPrefix(bytes.ToLower(header), []byte("received:")) && !bytes.Contains(bytes.ToLower(header), []byte("\nreceived:")) {
				t.Fail("the message read back has no Received header")
			}
			return nil
		},
	},
}

// smuggledCommand sends a message whose text holds a false end of data
// (named by end) followed by "NOOP". Rejecting the message (5xx) and
// keeping the bytes as data (250) are both right; a second reply means the
// server ended DATA early and ran the rest as commands.
func smuggledCommand(ctx context.Context, t *engine.T, name, text, end string) error {
	if !needRcpt(t) {
		return nil
	}
	s, err := ehloed(ctx, t)
	if err != nil {
		return err
	}
	body := testMessage(t, name, nonce(), text)
	wire := append([]byte(body), ".\r\n"...)
	r, ok, err := s.transaction("", wire, "sending a message")
	if !ok || err != nil {
		return err
	}
	if r.Code != 250 && r.Code/100 != 5 {
		t.Fail("end of data got %s, want 250 or a 5xx rejection", r)
		return nil
	}
	return expectInSync(t, s, "the server ended DATA at a bare "+end+" and ran what followed as commands")
}

// expectInSync checks that nothing more came after the final reply and the
// session still answers NOOP with one 250.
func expectInSync(t *engine.T, s *session, fault string) error {
	extra, err := s.c.Quiet(300 * time.Millisecond)
	if err != nil {
		return err
	}
	if len(extra) > 0 {
		t.Fail("%s: unrequested replies arrived", fault)
		return nil
	}
	r, err := s.cmd("NOOP")
	if err != nil {
		return err
	}
	if r.Code != 250 {
		t.Fail("%s: NOOP then got %s", fault, r)
	}
	return nil
}

// sendAndReadBack sends a test message with body (and MAIL parameters)
// and reads it back; got is nil when the check was skipped or failed.
func sendAndReadBack(ctx context.Context, t *engine.T, id, mailParams, body string) (got []byte, sent string, err error) {
	if !needRcpt(t) {
		return nil, "", nil
	}
	if t.Options.Readback == nil {
		t.Skip("needs a read-back mailbox (--readback pop3://… or imap://…)")
		return nil, "", nil
	}
	s, err := ehloed(ctx, t)
	if err != nil {
		return nil, "", err
	}
	n := nonce()
	sent = testMessage(t, id, n, body)
	r, ok, err := s.transaction(mailParams, smtpwire.AppendDotStuffed(nil, []byte(sent)), "sending the test message")
	if !ok || err != nil {
		return nil, "", err
	}
	if r.Code != 250 {
		t.Fail("the test message got %s, want 250", r)
		return nil, "", nil
	}
	s.cmd("QUIT")
	got, err = readback.Wait(ctx, t, *t.Options.Readback, n)
	return got, sent, err
}

func lastLines(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	if len(lines) > 4 {
		lines = lines[len(lines)-4:]
	}
	return strings.Join(lines, "⏎")
}

// bodyOf returns what follows the header of a message.
func bodyOf(msg []byte) []byte {
	_, body, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	return body
}
