package smtpsuite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"syscall"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// SMTP smuggling (Timo Longin, SEC Consult, "SMTP Smuggling - Spoofing
// E-Mails Worldwide", 2023-12-18, https://sec-consult.com/blog/detail/
// smtp-smuggling-spoofing-e-mails-worldwide/): a receiver that ends DATA
// at anything but CRLF "." CRLF runs what follows as commands, so one
// message relayed by a server that passes the false end on carries a
// second, forged one. RFC 5321 allows no such end: only CRLF ends a line
// (§2.3.8) and only CRLF "." CRLF ends the data (§4.1.1.4).
//
// The variants are those of the research and its follow-ups: bare LF and
// bare CR forms (\n.\n, \r.\r, … in the SEC Consult write-up), Postfix's
// advisory (https://www.postfix.org/smtp-smuggling.html, <LF>.<CR><LF>),
// and the eleven payloads of the public checker smtp_smuggling_checker.py
// (github.com/suuhm/smtp_smuggling_checker.py), NUL-padded ones included.
// One check per variant: each is a sequence a server may or may not take
// for the end, CI can waive each on its own, and the verdicts say which
// ones the server kept as data and which it refused. A server that takes
// one sequence for the end also fails the variants that hold it
// ("\r\n.\n" holds "\n.\n"): those are the same hole, seen twice.
var endOfDataVariants = []struct{ id, seq string }{
	{"smtp.data.bare-lf-dot", "\n.\n"},
	{"smtp.data.lf-dot-crlf", "\n.\r\n"},
	{"smtp.data.crlf-dot-lf", "\r\n.\n"},
	{"smtp.data.cr-dot-cr", "\r.\r"},
	{"smtp.data.crlf-dot-cr", "\r\n.\r"},
	{"smtp.data.cr-dot-crlf", "\r.\r\n"},
	{"smtp.data.lf-dot-cr", "\n.\r"},
	{"smtp.data.lf-lf-dot-crlf", "\n\n.\r\n"},
	{"smtp.data.crlf-nul-dot-crlf", "\r\n\x00.\r\n"},
	{"smtp.data.crlf-dot-nul-crlf", "\r\n.\x00\r\n"},
	{"smtp.data.crlf-nul-dot-cr", "\r\n\x00.\r"},
	{"smtp.data.crlf-nul-dot-lf", "\r\n\x00.\n"},
}

// falseEndWait is how long a check waits for a reply after a false end of
// data. A server that takes it for the end answers at once; one that
// does not owes no reply, so the wait decides nothing for a correct
// server (a reply later than this still shows: the real end then gets two
// replies, which the sync check sees).
const falseEndWait = 750 * time.Millisecond

var smugglingChecks = func() []*engine.Check {
	var checks []*engine.Check
	for _, v := range endOfDataVariants {
		quoted := strconv.Quote(v.seq)
		checks = append(checks, &engine.Check{
			ID:    v.id,
			Title: "A false end of data " + quoted + " does not end DATA (no SMTP smuggling)",
			Spec:  "RFC 5321 §2.3.8, §4.1.1.4", Level: engine.Must,
			Run: func(ctx context.Context, t *engine.T) error {
				return falseEndOfData(ctx, t, v.id, v.seq)
			},
		})
	}
	return checks
}()

// falseEndOfData sends a message up to and including the false end seq
// and nothing more: without PIPELINING a client writes nothing past a
// point where the server may owe a reply. A reply then means the server
// ended DATA there; silence means it did not, and the real CRLF.CRLF
// follows, to be answered 250 (kept as data) or refused (4xx/5xx), with
// the session still in sync.
func falseEndOfData(ctx context.Context, t *engine.T, id, seq string) error {
	needRcpt(t)
	s := open(ctx, t)
	t.Require(s.openData("", "opening DATA"))
	msg := testMessage(t, id, nonce(), "before")
	t.Require(s.c.Write([]byte(msg + seq)))
	early, err := s.replyWithin(falseEndWait)
	t.Require(err)
	quoted := strconv.Quote(seq)
	if early != nil {
		judgeEarlyReply(t, s, quoted, early)
		return nil
	}
	t.Require(s.c.Write([]byte("\r\n.\r\n")))
	r, err := s.read()
	t.Require(err)
	var verdict string
	switch {
	case r.Code == 250:
		verdict = quoted + " kept as data: the message was accepted at the real end of data (" + s.describe(r) + ")"
	case r.Code/100 == 4 || r.Code/100 == 5:
		verdict = quoted + " not taken for the end: the message was refused at the real end of data (" + s.describe(r) + ")"
	default:
		t.FailNow("the real end of data after %s got %s, want 250 or a refusal", quoted, s.describe(r))
	}
	// Two replies to the real end mean DATA ended before it: at the false
	// end, answered late, or at the false end and the CRLF that came
	// next ("\r\n.\r" "\r\n" read as a dot line with a stray CR).
	endedEarly := "the server ended DATA before the real end of data (at " + quoted + ", or at " + quoted + " and the CRLF after it) and ran what followed as commands"
	if r.Code != 250 && closedAfter(s) {
		// A refusal, then the server hangs up (521, RFC 7504; Postfix's
		// smtpd_forbid_bare_newline = reject): no more replies came, and
		// nothing after the false end can run.
		t.Pass("%s; the connection then closed", verdict)
		return nil
	}
	if err := expectInSync(t, s, endedEarly); err != nil || t.Failed() {
		return err
	}
	t.Pass("%s", verdict)
	return nil
}

// judgeEarlyReply judges a reply that came after the false end, before
// the real one. A 2xx ended DATA there. A refusal followed by closing the
// connection ends everything (Postfix's smtpd_forbid_bare_newline does
// this): nothing after the false end can run. A refusal with the session
// going on is probed with NOOP: a 250 means commands are read after the
// false end.
func judgeEarlyReply(t *engine.T, s *session, quoted string, early *smtpreply.Reply) {
	if early.Code/100 != 4 && early.Code/100 != 5 {
		t.FailNow("the server ended DATA at %s: it answered %s before the real end of data, so what follows such a sequence runs as commands (SMTP smuggling)", quoted, s.describe(early))
	}
	if s.c.Closed(falseEndWait) {
		t.Pass("%s refused (%s) and the connection closed: nothing after it can run as a command", quoted, s.describe(early))
		t.Stop()
	}
	probe, err := s.commandWithin("NOOP", falseEndWait)
	if errors.Is(err, engine.ErrServerClosed) {
		t.Pass("%s refused (%s) and the connection closed: nothing after it can run as a command", quoted, s.describe(early))
		t.Stop()
	}
	t.Require(err)
	if probe != nil {
		t.FailNow("the server ended DATA at %s (it answered %s) and then ran NOOP as a command (%s): what follows such a sequence runs as commands (SMTP smuggling)", quoted, s.describe(early), s.describe(probe))
	}
	t.FailNow("the server answered %s at %s, before the real end of data (RFC 5321 §4.1.1.4: the reply comes after CRLF.CRLF)", s.describe(early), quoted)
}

// commandWithin sends a command and waits up to d for its reply: nil, nil
// when none began.
func (s *session) commandWithin(line string, d time.Duration) (*smtpreply.Reply, error) {
	if err := s.c.Send(line); err != nil {
		return nil, err
	}
	return s.replyWithin(d)
}

// replyWithin waits up to d for a reply: nil, nil when none began in
// that time (a reply that began is read to its end within d).
func (s *session) replyWithin(d time.Duration) (*smtpreply.Reply, error) {
	s.c.SetWithin(d)
	defer s.c.SetWithin(0)
	r, err := s.read()
	if errors.Is(err, engine.ErrTimeout) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("waiting for a reply: %w", err)
	}
	return r, nil
}

// closedAfter reports whether the server closes the connection, with
// nothing more sent, within the wait expectInSync gives unrequested
// replies. Anything it sends instead stays to be read.
func closedAfter(s *session) bool {
	if s.c.Buffered() > 0 {
		return false
	}
	_, err := s.c.Peek(syncQuiet)
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}
