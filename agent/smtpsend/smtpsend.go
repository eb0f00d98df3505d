// Package smtpsend submits one message over SMTP (RFC 5321) the way a
// scriptable user agent does: greeting, EHLO, STARTTLS (RFC 3207), AUTH
// (RFC 4954, PLAIN and LOGIN), MAIL, RCPT, DATA with dot stuffing, QUIT,
// every line in the transcript, and every failure tagged with the stage it
// happened in.
package smtpsend

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/agent/session"
	"github.com/mailcheck/mailcheck/internal/smtpwire"
	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// Options describe a submission.
type Options struct {
	session.Options
	// ClientName is the EHLO name. Default "localhost".
	ClientName string
	// From is the reverse-path, an address such as alice@example.org.
	From string
	// To are the forward-paths.
	To []string
	// EightBitMIME declares the message 8-bit (MAIL … BODY=8BITMIME,
	// RFC 6152); a server that does not offer 8BITMIME fails the EHLO
	// stage.
	EightBitMIME bool
	// Pipelining sends MAIL and every RCPT in one write (RFC 2920); a
	// server that does not offer PIPELINING fails the EHLO stage.
	Pipelining bool
}

// Result is a message the server accepted.
type Result struct {
	// Reply is the server's reply to the end of data, such as
	// "250 2.0.0 OK queued as 1234".
	Reply *smtpreply.Reply
	// TLS reports whether the message went over TLS.
	TLS bool
	// Auth is the AUTH mechanism used, "" for none.
	Auth string
}

// CheckAddress reports whether addr can be an SMTP path (RFC 5321 §4.1.2):
// local-part@domain, ASCII (SMTPUTF8 is not spoken), within the length
// limits.
func CheckAddress(addr string) error {
	mb, null, rest, err := smtpaddr.ParsePath("<" + addr + ">")
	switch {
	case err != nil:
		return fmt.Errorf("address %q: %v", addr, err)
	case null || mb.Domain == "" || rest != "":
		return fmt.Errorf("address %q: want local-part@domain", addr)
	}
	return nil
}

// Send submits msg, a whole message with CRLF line ends, and returns the
// server's acceptance. Every error after the options are checked is a
// *session.Error naming the stage that failed; nothing is sent unless every
// recipient is accepted.
func Send(ctx context.Context, o Options, msg []byte) (*Result, error) {
	if err := CheckAddress(o.From); err != nil {
		return nil, err
	}
	if len(o.To) == 0 {
		return nil, errors.New("no recipient")
	}
	for _, to := range o.To {
		if err := CheckAddress(to); err != nil {
			return nil, err
		}
	}
	if o.ClientName == "" {
		o.ClientName = "localhost"
	}
	c, err := session.Dial(ctx, o.Options)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	s := &sender{c: c, o: o}
	res, err := s.run(msg)
	if err != nil && !s.broken {
		s.quit()
	}
	return res, err
}

// sender is one SMTP session.
type sender struct {
	c *session.Conn
	o Options
	// broken is set when the connection is no longer usable (a read or
	// write failed, or the server said 421): no QUIT then.
	broken bool
}

func (s *sender) run(msg []byte) (*Result, error) {
	greeting, err := s.reply(session.Greeting)
	if err != nil {
		return nil, err
	}
	if greeting.Code != 220 {
		// RFC 5321 §3.1: 554 instead of 220 means no service here.
		return nil, session.Failf(session.Greeting, "the server refuses the session: %v", greeting)
	}
	ext, err := s.hello()
	if err != nil {
		return nil, err
	}
	if !s.c.TLS() {
		want, err := s.o.StartTLS.Wanted(ext.has("STARTTLS"), "STARTTLS")
		if err != nil {
			return nil, err
		}
		if want {
			if _, err := s.command(session.TLS, "STARTTLS", 220); err != nil {
				return nil, err
			}
			if err := s.c.StartTLS(); err != nil {
				s.broken = true
				return nil, err
			}
			// RFC 3207 §4.2: the client discards what it knew and
			// says EHLO again.
			if ext, err = s.hello(); err != nil {
				return nil, err
			}
		}
	}
	if s.o.EightBitMIME && !ext.has("8BITMIME") {
		return nil, session.Failf(session.EHLO, "--8bitmime: the server does not offer 8BITMIME (RFC 6152)")
	}
	if s.o.Pipelining && !ext.has("PIPELINING") {
		return nil, session.Failf(session.EHLO, "--pipelining: the server does not offer PIPELINING (RFC 2920)")
	}
	res := &Result{TLS: s.c.TLS()}
	if s.o.User != "" {
		if res.Auth, err = s.auth(ext); err != nil {
			return nil, err
		}
	}
	if err := s.envelope(ext, len(msg)); err != nil {
		return nil, err
	}
	if res.Reply, err = s.data(msg); err != nil {
		return nil, err
	}
	s.quit()
	return res, nil
}

// reply reads a reply; a failure to read it is a failure of stage.
func (s *sender) reply(stage session.Stage) (*smtpreply.Reply, error) {
	r, err := s.c.ReadSMTPReply()
	if err != nil {
		s.broken = true
		return nil, session.Fail(stage, fmt.Errorf("reading the reply: %w", err))
	}
	if r.Code == 421 {
		// RFC 5321 §3.8: the server is closing the connection.
		s.broken = true
	}
	return r, nil
}

// command sends line and wants the reply code want; an error names the
// line's verb.
func (s *sender) command(stage session.Stage, line string, want int) (*smtpreply.Reply, error) {
	verb, _, _ := strings.Cut(line, " ")
	return s.commandAs(stage, verb, line, want)
}

// commandAs is command with the name an error gives the line: a line that
// is a secret (an AUTH LOGIN response) must not name itself.
func (s *sender) commandAs(stage session.Stage, name, line string, want int) (*smtpreply.Reply, error) {
	if err := s.c.WriteLine(line); err != nil {
		s.broken = true
		return nil, session.Fail(stage, err)
	}
	r, err := s.reply(stage)
	if err != nil {
		return nil, err
	}
	if r.Code != want {
		return r, session.Failf(stage, "%s: %v", name, r)
	}
	return r, nil
}

// hello says EHLO, or HELO when the server does not know EHLO (RFC 5321
// §3.2: a 500 or 502 to EHLO), and returns the extensions offered.
func (s *sender) hello() (extensions, error) {
	r, err := s.command(session.EHLO, "EHLO "+s.o.ClientName, 250)
	if err == nil {
		return parseExtensions(r), nil
	}
	if r == nil || (r.Code != 500 && r.Code != 502) {
		return nil, err
	}
	if _, err := s.command(session.EHLO, "HELO "+s.o.ClientName, 250); err != nil {
		return nil, err
	}
	return extensions{}, nil
}

// auth authenticates with PLAIN (RFC 4616) or, when the server does not
// offer it, LOGIN; the secrets are masked in the transcript before they
// are sent.
func (s *sender) auth(ext extensions) (string, error) {
	mechs, ok := ext["AUTH"]
	if !ok {
		if s.c.TLS() {
			return "", session.Failf(session.Auth, "the server offers no AUTH")
		}
		return "", session.Failf(session.Auth, "the server offers no AUTH without TLS (try --starttls always or smtps://)")
	}
	tr := s.c.Transcript()
	user, pass := s.o.User, s.o.Password
	tr.Secret(pass)
	tr.Secret(base64.StdEncoding.EncodeToString([]byte(pass)))
	has := func(m string) bool {
		for _, x := range mechs {
			if strings.EqualFold(x, m) {
				return true
			}
		}
		return false
	}
	switch {
	case has("PLAIN"):
		// RFC 4954 §4: the response may go with the command.
		resp := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
		tr.Secret(resp)
		if _, err := s.command(session.Auth, "AUTH PLAIN "+resp, 235); err != nil {
			return "", err
		}
		return "PLAIN", nil
	case has("LOGIN"):
		if _, err := s.command(session.Auth, "AUTH LOGIN", 334); err != nil {
			return "", err
		}
		if _, err := s.commandAs(session.Auth, "AUTH LOGIN user name", base64.StdEncoding.EncodeToString([]byte(user)), 334); err != nil {
			return "", err
		}
		if _, err := s.commandAs(session.Auth, "AUTH LOGIN password", base64.StdEncoding.EncodeToString([]byte(pass)), 235); err != nil {
			return "", err
		}
		return "LOGIN", nil
	}
	return "", session.Failf(session.Auth, "the server offers AUTH %s; mailcheck speaks PLAIN and LOGIN", strings.Join(mechs, " "))
}

// envelope sends MAIL and every RCPT, in one write with pipelining
// (RFC 2920 §3.1: a group may end with RCPT; DATA goes only once every
// recipient is known to be accepted, so that a message is never sent to
// only some of them). Every recipient is tried, so that the error lists
// all the refused ones.
func (s *sender) envelope(ext extensions, size int) error {
	mail := "MAIL FROM:<" + s.o.From + ">"
	if ext.has("SIZE") {
		mail += " SIZE=" + strconv.Itoa(size) // RFC 1870 §6
	}
	if s.o.EightBitMIME {
		mail += " BODY=8BITMIME" // RFC 6152 §2
	}
	lines := []string{mail}
	for _, to := range s.o.To {
		lines = append(lines, "RCPT TO:<"+to+">")
	}
	if s.o.Pipelining {
		if err := s.c.Write([]byte(strings.Join(lines, "\r\n") + "\r\n")); err != nil {
			s.broken = true
			return session.Fail(session.Mail, err)
		}
	}
	var mailErr error
	var refused []string
	for i, line := range lines {
		stage := session.Rcpt
		if i == 0 {
			stage = session.Mail
		}
		if !s.o.Pipelining {
			if mailErr != nil {
				break
			}
			if err := s.c.WriteLine(line); err != nil {
				s.broken = true
				return session.Fail(stage, err)
			}
		}
		r, err := s.reply(stage)
		if err != nil {
			return err
		}
		switch {
		case i == 0 && r.Code != 250:
			mailErr = session.Failf(session.Mail, "MAIL FROM:<%s>: %v", s.o.From, r)
		case i > 0 && r.Code != 250 && r.Code != 251 && mailErr == nil:
			refused = append(refused, fmt.Sprintf("<%s>: %v", s.o.To[i-1], r))
		}
		if s.broken {
			break
		}
	}
	if mailErr != nil {
		return mailErr
	}
	if len(refused) > 0 {
		if !s.broken {
			// Nothing is sent: the transaction is abandoned (RFC 5321
			// §4.1.1.5) before QUIT.
			s.command(session.Rcpt, "RSET", 250)
		}
		return session.Failf(session.Rcpt, "%d of %d recipients refused, nothing sent: %s",
			len(refused), len(s.o.To), strings.Join(refused, "; "))
	}
	return nil
}

// data sends DATA and the message, dot-stuffed (RFC 5321 §4.5.2), and
// returns the reply to its end.
func (s *sender) data(msg []byte) (*smtpreply.Reply, error) {
	if _, err := s.command(session.Data, "DATA", 354); err != nil {
		return nil, err
	}
	stuffed := smtpwire.AppendDotStuffed(make([]byte, 0, len(msg)+len(msg)/64+8), msg)
	body, end := stuffed[:len(stuffed)-3], stuffed[len(stuffed)-3:]
	if err := s.c.WriteData(body, end, "message data"); err != nil {
		s.broken = true
		return nil, session.Fail(session.Data, err)
	}
	r, err := s.reply(session.Data)
	if err != nil {
		return nil, err
	}
	if r.Code != 250 {
		return nil, session.Failf(session.Data, "message refused: %v", r)
	}
	return r, nil
}

// quit ends the session politely; its outcome changes nothing (the
// message, if any, was accepted at the 250 after the data).
func (s *sender) quit() {
	if err := s.c.WriteLine("QUIT"); err != nil {
		return
	}
	s.c.ReadSMTPReply()
}
