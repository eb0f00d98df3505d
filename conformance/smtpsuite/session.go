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
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/internal/smtpwire"
)

// session is one SMTP connection of a check.
type session struct {
	t        *engine.T
	c        *engine.Conn
	greeting *smtpwire.Reply
	ext      map[string]string // EHLO keywords (upper case) → parameters
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
		return nil, fmt.Errorf("greeting %d, not 220: the server refuses service", g.Code)
	}
	return &session{t: t, c: c, greeting: g}, nil
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

// mailed is ehloed plus an accepted MAIL FROM: a transaction is open. It
// returns nil, with the check failed, when MAIL is refused.
func mailed(ctx context.Context, t *engine.T) (*session, error) {
	s, err := ehloed(ctx, t)
	if err != nil {
		return nil, err
	}
	if _, ok, err := s.want("MAIL FROM:<"+t.Options.From+">", "opening a transaction", 250); !ok || err != nil {
		return nil, err
	}
	return s, nil
}

// ehlo sends EHLO and records the extensions (RFC 5321 §4.1.1.1).
func (s *session) ehlo() error {
	r, err := s.cmd("EHLO " + s.t.Options.ClientName)
	if err != nil {
		return err
	}
	if r.Code/100 == 4 {
		// A transient refusal of a setup step (RFC 5321 §4.2.1: "the
		// action may be requested again").
		return engine.Busy("EHLO answered %s", r)
	}
	if r.Code != 250 {
		return fmt.Errorf("EHLO answered %s", r)
	}
	s.ext = make(map[string]string)
	for _, l := range r.Lines[1:] {
		kw, params, _ := strings.Cut(l, " ")
		s.ext[strings.ToUpper(kw)] = params
	}
	return nil
}

func (s *session) has(ext string) bool { _, ok := s.ext[ext]; return ok }

// cmd sends a command line and reads the reply.
func (s *session) cmd(line string) (*smtpwire.Reply, error) {
	if err := s.c.Send(line); err != nil {
		return nil, err
	}
	return s.c.ReadSMTPReply()
}

// want sends a command and fails the check unless the reply code is one of
// codes. It reports whether the reply was as wanted.
func (s *session) want(line string, why string, codes ...int) (*smtpwire.Reply, bool, error) {
	r, err := s.cmd(line)
	if err != nil {
		return nil, false, err
	}
	if !slices.Contains(codes, r.Code) {
		s.t.Fail("%s: %q got %s, want %s", why, line, r, codeList(codes))
		return r, false, nil
	}
	return r, true, nil
}

func codeList(codes []int) string {
	var s []string
	for _, c := range codes {
		s = append(s, strconv.Itoa(c))
	}
	return strings.Join(s, " or ")
}

// startTLS upgrades the session with STARTTLS and EHLOs again.
func (s *session) startTLS() error {
	r, err := s.cmd("STARTTLS")
	if err != nil {
		return err
	}
	if r.Code != 220 {
		return fmt.Errorf("STARTTLS answered %s", r)
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
	r, err := s.cmd("AUTH PLAIN " + plainResponse(s.t.Options.User, s.t.Options.Password))
	if err != nil {
		return err
	}
	if r.Code != 235 {
		return fmt.Errorf("AUTH PLAIN with the given credentials answered %s", r)
	}
	return nil
}

// needRcpt skips the check when no accepted recipient was given.
func needRcpt(t *engine.T) bool {
	if t.Options.Rcpt == "" {
		t.Skip("needs an address the server accepts (--rcpt)")
		return false
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
// before DATA fails the check with why.
func (s *session) transaction(mailParams string, wire []byte, why string) (*smtpwire.Reply, bool, error) {
	if _, ok, err := s.want("MAIL FROM:<"+s.t.Options.From+">"+mailParams, why, 250); !ok || err != nil {
		return nil, false, err
	}
	if _, ok, err := s.want("RCPT TO:<"+s.t.Options.Rcpt+">", why, 250, 251); !ok || err != nil {
		return nil, false, err
	}
	if _, ok, err := s.want("DATA", why, 354); !ok || err != nil {
		return nil, false, err
	}
	if err := s.c.Write(wire); err != nil {
		return nil, false, err
	}
	r, err := s.c.ReadSMTPReply()
	return r, err == nil, err
}

// plainResponse is the base64 SASL PLAIN response (RFC 4616).
func plainResponse(user, pass string) string {
	return base64Std("\x00" + user + "\x00" + pass)
}
