package smtpserver

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/mailcheck/mailcheck/internal/lineserver"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// authOffered reports whether AUTH may be used on this connection: only
// under TLS, unless InsecureAuth (RFC 4954 §4 and RFC 8314: no clear-text
// passwords on the wire).
func (s *session) authOffered() bool {
	return s.info.TLS || s.srv.opts.InsecureAuth
}

// errAuthCancelled is a client's "*" (RFC 4954 §4).
var errAuthCancelled = errors.New("authentication cancelled")

// cmdAuth handles AUTH mechanism [initial-response] (RFC 4954) for PLAIN
// (RFC 4616) and LOGIN.
func (s *session) cmdAuth(arg string) {
	switch {
	case s.state == stateConnected || !s.info.ESMTP:
		s.reply(503, "5.5.1", "Bad sequence of commands: send EHLO first")
		return
	case s.info.User != "":
		// RFC 4954 §4: after a successful AUTH, another gets 503.
		s.reply(503, "5.5.1", "Already authenticated")
		return
	case s.state >= stateMail:
		// RFC 4954 §4: AUTH is not permitted during a mail transaction.
		s.reply(503, "5.5.1", "Bad sequence of commands: AUTH inside a transaction")
		return
	case arg == "":
		s.reply(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]")
		return
	}
	mech, initial, hasInitial := strings.Cut(arg, " ")
	mech = strings.ToUpper(mech)
	if mech != "PLAIN" && mech != "LOGIN" {
		s.reply(504, "5.5.4", "Unrecognized authentication mechanism %s", mech)
		return
	}
	if !s.authOffered() {
		// RFC 4954 §6: 538 when the mechanism needs an encrypted connection.
		s.reply(538, "5.7.11", "Encryption required for requested authentication mechanism")
		return
	}
	var username, password string
	var err error
	if mech == "PLAIN" {
		username, password, err = s.saslPlain(initial, hasInitial)
	} else {
		username, password, err = s.saslLogin(initial, hasInitial)
	}
	if err != nil {
		var r *smtpreply.Reply
		switch {
		case errors.Is(err, errAuthCancelled):
			s.reply(501, "5.0.0", "Authentication cancelled")
		case errors.As(err, &r):
			s.writeReply(r)
		default: // the connection failed; the read loop sees it next
		}
		return
	}
	user, err := s.srv.backend.Authenticate(s.ctx, username, password)
	if err != nil {
		if !errors.Is(err, ErrAuthFailed) {
			s.log.Error("authentication backend failed", "err", err)
			s.reply(454, "4.7.0", "Temporary authentication failure")
			return
		}
		// Slow down password guessing: the delay grows with this
		// client's failures, whatever connection or protocol they came
		// over. The password is never logged.
		// The name as given is not logged either: it may be a password
		// typed into the wrong field. user is the account's, if any.
		delay := s.srv.opts.LoginThrottle.Failure(s.info.RemoteAddr)
		s.log.Info("authentication failed", "user", user, "delay", delay)
		s.conn.Pause(delay)
		s.reply(535, "5.7.8", "Authentication credentials invalid")
		return
	}
	s.info.User = user
	s.log.Info("authenticated", "user", user)
	s.reply(235, "2.7.0", "Authentication successful")
}

// saslPlain runs PLAIN: one response "authzid NUL authcid NUL passwd".
func (s *session) saslPlain(initial string, hasInitial bool) (string, string, error) {
	var resp []byte
	var err error
	if hasInitial {
		resp, err = decodeSASL(initial)
	} else {
		resp, err = s.challenge("")
	}
	if err != nil {
		return "", "", err
	}
	parts := bytes.Split(resp, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 {
		return "", "", smtpreply.NewReply(501, "5.5.2", "Malformed PLAIN response (RFC 4616 section 2)")
	}
	authz, authc, pass := string(parts[0]), string(parts[1]), string(parts[2])
	if authz != "" && authz != authc {
		// Acting as another user is not supported: refuse, don't ignore.
		return "", "", smtpreply.NewReply(535, "5.7.8", "Authorization identity differs from authentication identity")
	}
	return authc, pass, nil
}

// saslLogin runs LOGIN: "Username:" and "Password:" challenges.
func (s *session) saslLogin(initial string, hasInitial bool) (string, string, error) {
	var user []byte
	var err error
	if hasInitial {
		user, err = decodeSASL(initial)
	} else {
		user, err = s.challenge("Username:")
	}
	if err != nil {
		return "", "", err
	}
	pass, err := s.challenge("Password:")
	if err != nil {
		return "", "", err
	}
	return string(user), string(pass), nil
}

// challenge sends a 334 with the base64 challenge and reads the client's
// response line (at most 12288 octets, RFC 4954 §4).
func (s *session) challenge(text string) ([]byte, error) {
	s.w.WriteString("334 " + base64.StdEncoding.EncodeToString([]byte(text)) + "\r\n")
	line, err := s.conn.ReadLine(maxSASLLine)
	if errors.Is(err, lineserver.ErrLineTooLong) {
		return nil, smtpreply.NewReply(500, "5.5.6", "Authentication exchange line is too long")
	}
	if err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(line, []byte("\r\n")) {
		return nil, smtpreply.NewReply(501, "5.5.2", "Lines must end with CRLF")
	}
	line = line[:len(line)-2]
	if len(line) == 0 {
		return []byte{}, nil // an empty response to a challenge
	}
	return decodeSASL(string(line))
}

// decodeSASL decodes a base64 response; "=" is the empty response
// (RFC 4954 §4).
func decodeSASL(s string) ([]byte, error) {
	if s == "=" {
		return []byte{}, nil
	}
	if s == "*" {
		return nil, errAuthCancelled
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || s == "" {
		return nil, smtpreply.NewReply(501, "5.5.2", "Invalid base64 in authentication response")
	}
	return b, nil
}
