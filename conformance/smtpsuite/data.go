package smtpsuite

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/readback"
	"github.com/mailcheck/mailcheck/internal/smtpwire"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
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
		ID: "smtp.data.transparency", Title: "A line \"..x\" arrives as \".x\" (read back)", Spec: "RFC 5321 §4.5.2", Level: engine.Must, ReadsBack: true,
		Run: func(ctx context.Context, t *engine.T) error {
			got, sent, err := sendAndReadBack(ctx, t, "transparency", "", ".x\r\n..\r\n.\r\nplain\r\n")
			if err != nil || got == nil {
				return err
			}
			if d := readback.Compare([]byte(sent), got); d != "" {
				t.Fail("the message read back is not the one sent: dot-stuffing was not undone exactly: %s", d)
			}
			return nil
		},
	},
	{
		ID: "smtp.received.added", Title: "The server adds a Received trace header", Spec: "RFC 5321 §4.4", Level: engine.Must, ReadsBack: true,
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

// syncQuiet is how long expectInSync waits for replies nobody asked for.
const syncQuiet = 300 * time.Millisecond

// expectInSync checks that nothing more came after the final reply and the
// session still answers NOOP with one reply of its own: 250, or 502 from a
// server without NOOP (smtp.noop.ok's business, not a loss of sync).
func expectInSync(t *engine.T, s *session, fault string) error {
	extra, err := s.c.Quiet(syncQuiet)
	if err != nil {
		return err
	}
	if len(extra) > 0 {
		t.Fail("%s: unrequested replies arrived", fault)
		return nil
	}
	// Not s.cmd: replies out of step are this check's subject here, not
	// a precondition.
	if err := s.c.Send("NOOP"); err != nil {
		return err
	}
	r, err := s.read()
	if err != nil {
		return err
	}
	if n := s.c.Buffered(); n > 0 {
		t.Fail("%s: NOOP got %s and %d more octets of unrequested replies", fault, s.describe(r), n)
		return nil
	}
	if r.Code != 250 && r.Code != 502 {
		t.Fail("%s: NOOP then got %s", fault, s.describe(r))
	}
	return nil
}

// sendAndReadBack sends a test message with body (and MAIL parameters)
// and reads it back; got is nil when the check was skipped or failed. It
// needs a recipient and a read-back mailbox the run has proven (see
// readBackTrusted), and skips without them.
func sendAndReadBack(ctx context.Context, t *engine.T, id, mailParams, body string) (got []byte, sent string, err error) {
	if !needRcpt(t) {
		return nil, "", nil
	}
	if t.Options.Readback == nil {
		t.Skip("needs a read-back mailbox (--readback pop3://… or imap://…)")
		return nil, "", nil
	}
	readBackTrusted(ctx, t)
	sent, n, r, err := sendTestMessage(ctx, t, id, mailParams, "", body)
	if r == nil || err != nil {
		return nil, "", err
	}
	if r.Code != 250 {
		t.Fail("the test message got %s, want 250", r)
		return nil, "", nil
	}
	got, err = readback.Wait(ctx, t, *t.Options.Readback, n)
	return got, sent, err
}

// readBackTrusted ends the check with a skip unless the read-back path
// returns a plain message intact (readback.Verify, once per run): what
// the read-back alters in every message is not the SMTP server's doing
// to judge.
func readBackTrusted(ctx context.Context, t *engine.T) {
	t.Require(readback.Verify(ctx, t, t.Target))
}

// sendTestMessage sends a test message in a session of its own, with
// field (a header field line, without CRLF) added to its header when not
// empty, and returns it, its nonce and the reply at the end of data. The
// steps before the content are the checks' preconditions: a refusal
// ends the check with a skip (engine.Unmet), except a refused MAIL
// parameter, which is the subject of the check that sends it.
func sendTestMessage(ctx context.Context, t *engine.T, id, mailParams, field, body string) (sent, n string, r *smtpreply.Reply, err error) {
	s, err := ehloed(ctx, t)
	if err != nil {
		return "", "", nil, err
	}
	n = nonce()
	sent = testMessage(t, id, n, body)
	if field != "" {
		sent = strings.Replace(sent, "\r\n\r\n", "\r\n"+field+"\r\n\r\n", 1)
	}
	steps := []struct {
		line string
		want []int
	}{
		{"MAIL FROM:<" + t.Options.From + ">" + mailParams, []int{250}},
		{"RCPT TO:<" + t.Options.Rcpt + ">", []int{250, 251}},
		{"DATA", []int{354}},
	}
	for i, step := range steps {
		r, err := s.cmd(step.line)
		if err != nil {
			return "", "", nil, err
		}
		if slices.Contains(step.want, r.Code) {
			continue
		}
		if i == 0 && mailParams != "" {
			t.FailNow("%q got %s, want 250", step.line, r)
		}
		return "", "", nil, engine.Unmet("sending the test message: %q got %s, want %s", step.line, r, codeList(step.want))
	}
	if err := s.c.Write(smtpwire.AppendDotStuffed(nil, []byte(sent))); err != nil {
		return "", "", nil, err
	}
	if r, err = s.c.ReadSMTPReply(); err != nil {
		return "", "", nil, err
	}
	s.cmd("QUIT")
	return sent, n, r, nil
}
