// Package smtpsuite is the SMTP conformance suite: checks of a server
// against RFC 5321 and the extensions it advertises (RFC 1870 SIZE, RFC 2034
// ENHANCEDSTATUSCODES, RFC 2920 PIPELINING, RFC 3207 STARTTLS, RFC 4954
// AUTH, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8). Each check opens its own
// connections; a check that needs what the server does not offer skips.
package smtpsuite

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/smtp/smtpclient"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// session is one SMTP connection of a check.
type session struct {
	t *engine.T
	c *engine.Conn
	// cl is the SMTP client core over c, reading replies with read.
	cl       *smtpclient.Client
	greeting *smtpreply.Reply
	// ext maps the EHLO keywords (upper case) to their parameter text as
	// sent: the checks judge what the server wrote.
	ext map[string]string
	// flaws holds the replies read that break the reply grammar, with
	// how (see read).
	flaws map[*smtpreply.Reply]*replyFlaw
}

// dial connects and reads the greeting, which must be 220 for the check to
// go on (a server refusing service cannot be checked). A 4yz greeting
// (421: "Service not available", RFC 5321 §3.8) is a busy server: the
// runner tries the check again later.
func dial(ctx context.Context, t *engine.T) (*session, error) {
	c, err := t.Dial(ctx)
	if err != nil {
		return nil, err
	}
	g, err := c.ReadSMTPReply()
	if err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if g.Code/100 == 4 {
		return nil, engine.Busy("greeting %s", g)
	}
	if g.Code != 220 {
		// smtp.greeting.code judges the greeting; any other check has
		// nothing to talk to.
		return nil, engine.Unmet("greeting %s, not 220: the server refuses service (smtp.greeting.code judges the greeting)", g)
	}
	return newSession(t, c, g), nil
}

// newSession is the session over c, whose greeting g was read.
func newSession(t *engine.T, c *engine.Conn, g *smtpreply.Reply) *session {
	s := &session{t: t, c: c, greeting: g}
	s.cl = c.NewSMTP(smtpclient.Options{ReadReply: s.read})
	return s
}

// ehloed is dial plus a successful EHLO.
func ehloed(ctx context.Context, t *engine.T) (*session, error) {
	s, err := dial(ctx, t)
	if err != nil {
		return nil, err
	}
	if err := s.ehlo(); err != nil {
		return nil, err
	}
	return s, nil
}

// The step-style openers end the check themselves (t.Require) when the
// session cannot be set up: Error for a broken connection, Skip quoting
// the reply for a refused setup step. A check's body then reads as its
// steps.

// open is ehloed, ending the check when it fails.
func open(ctx context.Context, t *engine.T) *session {
	s, err := ehloed(ctx, t)
	t.Require(err)
	return s
}

// openTransaction is open plus an accepted MAIL FROM.
func openTransaction(ctx context.Context, t *engine.T) *session {
	s := open(ctx, t)
	s.setup(smtpclient.MailCommand(t.Options.From), 250)
	return s
}

// openRecipient is openTransaction plus an accepted RCPT TO:<--rcpt>, the
// surest recipient there is: the user named it as one the server takes
// (the bare postmaster is smtp.postmaster.bare's subject, not a means).
// Without --rcpt the check skips.
func openRecipient(ctx context.Context, t *engine.T) *session {
	needRcpt(t)
	s := openTransaction(ctx, t)
	s.setup(rcptCommand(t), 250, 251)
	return s
}

func rcptCommand(t *engine.T) string { return smtpclient.RcptCommand(t.Options.Rcpt) }

// ehlo sends EHLO and records the extensions (RFC 5321 §4.1.1.1). A
// refusal is an unmet precondition (smtp.ehlo.accepted judges EHLO).
func (s *session) ehlo() error {
	caps, r, err := s.cl.Hello(s.t.Options.ClientName)
	if r == nil {
		return err
	}
	if err := s.inStep(smtpclient.HelloCommand(s.t.Options.ClientName, false), r); err != nil {
		return err
	}
	if r.Code/100 == 4 {
		// A transient refusal of a setup step (RFC 5321 §4.2.1: "the
		// action may be requested again").
		return engine.Busy("EHLO answered %s", r)
	}
	if r.Code != 250 {
		return engine.Unmet("EHLO answered %s", s.describe(r))
	}
	s.ext = caps.Keywords()
	return nil
}

func (s *session) has(ext string) bool { _, ok := s.ext[ext]; return ok }

// cmd sends a command line and reads the reply, in lock-step: nothing may
// follow the reply until the next command (RFC 5321 §4.2.1, §4.3.1). More
// octets already waiting mean the replies are out of step (a multi-line
// reply whose lines are not chained with "ddd-", say): every later reply
// would answer the wrong command, so the check cannot go on. That fault
// is smtp.reply.multiline's subject, not the check's.
func (s *session) cmd(line string) (*smtpreply.Reply, error) {
	r, err := s.cl.Cmd(line)
	if err != nil {
		return r, err
	}
	return r, s.inStep(line, r)
}

// inStep is nil when nothing followed the reply r to line.
func (s *session) inStep(line string, r *smtpreply.Reply) error {
	if s.c.Buffered() > 0 {
		return engine.Unmet("the reply to %q (%s) was followed by %d more octets before the next command: the replies are out of step (smtp.reply.multiline judges that)", shownCommand(line), s.describe(r), s.c.Buffered())
	}
	return nil
}

// send is cmd ending the check on a broken connection.
func (s *session) send(line string) *smtpreply.Reply {
	r, err := s.cmd(line)
	s.t.Require(err)
	return r
}

// step sends a command the check needs but does not judge: a reply
// other than codes is an unmet precondition quoting it.
func (s *session) step(line string, codes ...int) (*smtpreply.Reply, error) {
	r, err := s.cmd(line)
	if err != nil {
		return nil, err
	}
	return r, s.refusal(line, r, codes...)
}

// refusal is nil when r's code is one of codes, else the end of a setup
// step: Busy for a transient refusal (RFC 5321 §4.2.1: "the action may be
// requested again"; greylisting, a full queue), for the runner runs the
// check again later, an unmet precondition quoting r otherwise.
func (s *session) refusal(line string, r *smtpreply.Reply, codes ...int) error {
	switch {
	case slices.Contains(codes, r.Code):
		return nil
	case r.Code/100 == 4:
		return engine.Busy("%q answered %s", shownCommand(line), s.describe(r))
	}
	return engine.Unmet("%q answered %s", shownCommand(line), s.describe(r))
}

// setup is step ending the check (Skip for a refusal, Error for a broken
// connection).
func (s *session) setup(line string, codes ...int) *smtpreply.Reply {
	r, err := s.step(line, codes...)
	s.t.Require(err)
	return r
}

// expect sends the command whose reply the check judges and fails the
// check (FailNow) unless the reply code is one of codes.
func (s *session) expect(line string, why string, codes ...int) *smtpreply.Reply {
	r := s.send(line)
	if !slices.Contains(codes, r.Code) {
		s.t.FailNow("%s: %q got %s, want %s", why, line, s.describe(r), codeList(codes))
	}
	return r
}

// shownCommand is a command as a message may quote it: an AUTH command's
// arguments may carry credentials, so only its mechanism is shown.
func shownCommand(line string) string {
	if verb, args, _ := strings.Cut(line, " "); strings.EqualFold(verb, "AUTH") {
		mech, _, _ := strings.Cut(args, " ")
		return verb + " " + mech + " …"
	}
	return line
}

// describe renders a reply for a verdict, saying so when it was
// malformed: a check that got a malformed reply says "malformed", not
// "missing" (smtp.reply.syntax judges the grammar itself).
func (s *session) describe(r *smtpreply.Reply) string {
	if f := s.flaws[r]; f != nil {
		return fmt.Sprintf("%s (malformed: %s)", r, f)
	}
	return r.String()
}

func codeList(codes []int) string {
	var s []string
	for _, c := range codes {
		s = append(s, strconv.Itoa(c))
	}
	return strings.Join(s, " or ")
}

// startTLS upgrades the session with STARTTLS and EHLOs again (RFC 3207
// §4.2). The reply is checked to be in step before the handshake: octets
// after the 220 would be taken for the TLS session's.
func (s *session) startTLS() error {
	if _, err := s.step("STARTTLS", 220); err != nil {
		return err
	}
	if err := s.c.StartTLS(); err != nil {
		return err
	}
	return s.ehlo()
}

// authenticate logs in with AUTH PLAIN, upgrading to TLS first when the
// server offers STARTTLS (credentials never go out in clear text when TLS
// is available).
func (s *session) authenticate() error {
	if s.has("STARTTLS") && !s.c.TLS() {
		if err := s.startTLS(); err != nil {
			return err
		}
	}
	r, err := s.cl.Auth(sasl.NewPlainClient("", s.t.Options.User, s.t.Options.Password))
	switch {
	case r != nil && s.inStep("AUTH PLAIN", r) != nil:
		return s.inStep("AUTH PLAIN", r)
	case r != nil && r.Code != 235:
		return engine.Unmet("AUTH PLAIN with the given credentials answered %s", s.describe(r))
	case errors.Is(err, sasl.ErrUnexpectedServerChallenge):
		return engine.Unmet("AUTH PLAIN with the given credentials answered a challenge, not 235")
	}
	return err
}

// needRcpt ends the check with Skip when no accepted recipient was given
// (it returns true otherwise, for callers written as conditions).
func needRcpt(t *engine.T) bool {
	if t.Options.Rcpt == "" {
		t.SkipNow("needs an address the server accepts (--rcpt)")
	}
	return true
}

// needAuth skips the check when no credentials were given.
func needAuth(t *engine.T) bool {
	if t.Options.User == "" {
		t.Skip("needs credentials (--user, --password)")
		return false
	}
	return true
}

// nonce is a unique token for the messages a check sends.
func nonce() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// testMessage builds a message that a read-back can find by its nonce.
// It carries every header RFC 5322 requires (Date, From), so a server has
// no reason to add any below the trace headers.
//
// The message goes into the run's ledger (engine.T.Sent): what no check
// deletes, the run sweeps from the read-back mailbox at its end.
func testMessage(t *engine.T, id, n string, body string) string {
	t.Sent(n, t.Target, t.Options.Rcpt)
	return "Date: " + time.Now().Format(time.RFC1123Z) + "\r\n" +
		"From: <" + t.Options.From + ">\r\n" +
		"To: <" + t.Options.Rcpt + ">\r\n" +
		"Subject: mailcheck conformance " + id + "\r\n" +
		"Message-ID: <" + n + "@mailcheck.invalid>\r\n" +
		"X-Mailcheck-Nonce: " + n + "\r\n" +
		"\r\n" + body
}

// transaction runs MAIL, RCPT and DATA with wire as the exact DATA bytes
// (already stuffed and terminated) and returns the final reply; a refusal
// before DATA is an unmet precondition (engine.Unmet) quoting the reply:
// the message is the check's subject, not the envelope (why says what the
// message was for).
func (s *session) transaction(mailParams string, wire []byte, why string) (*smtpreply.Reply, bool, error) {
	if err := s.openData(mailParams, why); err != nil {
		return nil, false, err
	}
	if err := s.c.Write(wire); err != nil {
		return nil, false, err
	}
	r, err := s.read()
	return r, err == nil, err
}

// openData runs MAIL, RCPT TO:<--rcpt> and DATA up to the 354; a refusal
// is an unmet precondition.
func (s *session) openData(mailParams, why string) error {
	for _, c := range []struct {
		line  string
		codes []int
	}{
		{"MAIL FROM:<" + s.t.Options.From + ">" + mailParams, []int{250}},
		{rcptCommand(s.t), []int{250, 251}},
		{"DATA", []int{354}},
	} {
		_, err := s.step(c.line, c.codes...)
		var unmet *engine.PreconditionError
		if errors.As(err, &unmet) {
			return engine.Unmet("%s: %s", why, unmet.Reason)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// plainResponse is the base64 SASL PLAIN response (RFC 4616).
func plainResponse(user, pass string) string {
	return base64Std("\x00" + user + "\x00" + pass)
}
