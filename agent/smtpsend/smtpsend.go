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

	"github.com/emersion/go-sasl"
	"github.com/mailcheck/mailcheck/agent/session"
	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
	"github.com/mailcheck/mailcheck/smtp/smtpclient"
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
	conn, err := session.Dial(ctx, o.Options)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	s := &sender{c: conn.SMTP(smtpclient.Options{HELOFallback: true}), conn: conn, o: o}
	res, err := s.run(msg)
	if err != nil && s.c.Usable() {
		s.c.Quit()
	}
	return res, err
}

// sender is one SMTP session.
type sender struct {
	c    *smtpclient.Client
	conn *session.Conn
	o    Options
}

func (s *sender) run(msg []byte) (*Result, error) {
	if _, err := s.c.Greeting(); err != nil {
		// RFC 5321 §3.1: 554 instead of 220 means no service here.
		return nil, fail(session.Greeting, "the server refuses the session", err)
	}
	caps, err := s.hello()
	if err != nil {
		return nil, err
	}
	if !s.c.TLS() {
		want, err := s.o.StartTLS.Wanted(caps.StartTLS(), "STARTTLS")
		if err != nil {
			return nil, err
		}
		if want {
			if _, err := s.c.StartTLS(); err != nil {
				return nil, fail(session.TLS, "STARTTLS", err)
			}
			// RFC 3207 §4.2: the client discards what it knew and
			// says EHLO again.
			if caps, err = s.hello(); err != nil {
				return nil, err
			}
		}
	}
	if s.o.EightBitMIME && !caps.EightBitMIME() {
		return nil, session.Failf(session.EHLO, "--8bitmime: the server does not offer 8BITMIME (RFC 6152)")
	}
	if s.o.Pipelining && !caps.Pipelining() {
		return nil, session.Failf(session.EHLO, "--pipelining: the server does not offer PIPELINING (RFC 2920)")
	}
	res := &Result{TLS: s.c.TLS()}
	if s.o.User != "" {
		if res.Auth, err = s.auth(caps); err != nil {
			return nil, err
		}
	}
	if err := s.envelope(caps, len(msg)); err != nil {
		return nil, err
	}
	if res.Reply, err = s.data(msg); err != nil {
		return nil, err
	}
	s.c.Quit()
	return res, nil
}

// fail is err as a failure of stage: a refusing reply quoted after what,
// any other error (a broken connection) as it is.
func fail(stage session.Stage, what string, err error) error {
	var r *smtpreply.Reply
	if errors.As(err, &r) {
		return session.Failf(stage, "%s: %v", what, r)
	}
	return session.Fail(stage, err)
}

// hello says EHLO, or HELO when the server does not know EHLO (RFC 5321
// §3.2), and returns the extensions offered.
func (s *sender) hello() (*smtpclient.Caps, error) {
	caps, _, err := s.c.Hello(s.o.ClientName)
	if err != nil {
		return nil, fail(session.EHLO, "EHLO", err)
	}
	return caps, nil
}

// auth authenticates with PLAIN (RFC 4616) or, when the server does not
// offer it, LOGIN; the secrets are masked in the transcript before they
// are sent.
func (s *sender) auth(caps *smtpclient.Caps) (string, error) {
	if !caps.Has("AUTH") {
		if s.c.TLS() {
			return "", session.Failf(session.Auth, "the server offers no AUTH")
		}
		return "", session.Failf(session.Auth, "the server offers no AUTH without TLS (try --starttls always or smtps://)")
	}
	tr := s.conn.Transcript()
	user, pass := s.o.User, s.o.Password
	tr.Secret(pass)
	tr.Secret(base64.StdEncoding.EncodeToString([]byte(pass)))
	var client sasl.Client
	mech := "PLAIN"
	switch {
	case caps.HasAuth(mech):
		// RFC 4954 §4: the response goes with the command.
		tr.Secret(base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass)))
		client = sasl.NewPlainClient("", user, pass)
	case caps.HasAuth("LOGIN"):
		mech, client = "LOGIN", smtpclient.LoginClient(user, pass)
	default:
		return "", session.Failf(session.Auth, "the server offers AUTH %s; mailcheck speaks PLAIN and LOGIN", strings.Join(caps.AuthMechanisms(), " "))
	}
	if _, err := s.c.Auth(client); err != nil {
		return "", fail(session.Auth, "AUTH "+mech, err)
	}
	return mech, nil
}

// envelope sends MAIL and every RCPT, in one write with pipelining
// (RFC 2920 §3.1: a group may end with RCPT; DATA goes only once every
// recipient is known to be accepted, so that a message is never sent to
// only some of them). Every recipient is tried, so that the error lists
// all the refused ones.
func (s *sender) envelope(caps *smtpclient.Caps, size int) error {
	var params []string
	if caps.Has("SIZE") {
		params = append(params, "SIZE="+strconv.Itoa(size)) // RFC 1870 §6
	}
	if s.o.EightBitMIME {
		params = append(params, "BODY=8BITMIME") // RFC 6152 §2
	}
	replies, err := s.c.Envelope(s.o.Pipelining, s.o.From, params, s.o.To)
	if len(replies) > 0 && replies[0].Code != 250 {
		return session.Failf(session.Mail, "MAIL FROM:<%s>: %v", s.o.From, replies[0])
	}
	if err != nil {
		if len(replies) == 0 {
			return session.Fail(session.Mail, err)
		}
		return session.Fail(session.Rcpt, err)
	}
	var refused []string
	for i, r := range replies[1:] {
		if r.Code != 250 && r.Code != 251 {
			refused = append(refused, fmt.Sprintf("<%s>: %v", s.o.To[i], r))
		}
	}
	if len(refused) > 0 {
		if s.c.Usable() {
			// Nothing is sent: the transaction is abandoned (RFC 5321
			// §4.1.1.5) before QUIT.
			s.c.Reset()
		}
		return session.Failf(session.Rcpt, "%d of %d recipients refused, nothing sent: %s",
			len(refused), len(s.o.To), strings.Join(refused, "; "))
	}
	return nil
}

// data sends DATA and the message, dot-stuffed (RFC 5321 §4.5.2), and
// returns the reply to its end.
func (s *sender) data(msg []byte) (*smtpreply.Reply, error) {
	if _, err := s.c.Data(); err != nil {
		return nil, fail(session.Data, "DATA", err)
	}
	r, err := s.c.Message(msg)
	if err != nil {
		return nil, fail(session.Data, "message refused", err)
	}
	return r, nil
}
