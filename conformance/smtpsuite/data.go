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

// expectInSync checks that nothing more came after the final reply and the
// session still answers NOOP with one reply of its own: 250, or 502 from a
// server without NOOP (smtp.noop.ok's business, not a loss of sync).
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
	if r.Code != 250 && r.Code != 502 {
		t.Fail("%s: NOOP then got %s", fault, s.describe(r))
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
