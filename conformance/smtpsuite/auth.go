package smtpsuite

import (
	"context"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// authSession is an EHLO'd session where AUTH is offered, after STARTTLS
// when the server offers it; nil (and the check skipped) otherwise.
func authSession(ctx context.Context, t *engine.T) (*session, error) {
	s, err := ehloed(ctx, t)
	if err != nil {
		return nil, err
	}
	if s.has("STARTTLS") && !s.c.TLS() {
		if err := s.startTLS(); err != nil {
			return nil, err
		}
	}
	if !s.has("AUTH") {
		t.Skip("AUTH not advertised")
		return nil, nil
	}
	return s, nil
}

var authChecks = []*engine.Check{
	{
		ID: "smtp.auth.success", Title: "AUTH PLAIN with valid credentials gets 235", Spec: "RFC 4954 §6, RFC 4616", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			if !needAuth(t) {
				return nil
			}
			s, err := authSession(ctx, t)
			if s == nil || err != nil {
				return err
			}
			if !strings.Contains(strings.ToUpper(s.ext["AUTH"]), "PLAIN") {
				t.Skip("AUTH PLAIN not offered (%s)", s.ext["AUTH"])
				return nil
			}
			s.expect("AUTH PLAIN "+plainResponse(t.Options.User, t.Options.Password), "valid credentials", 235)
			return nil
		},
	},
	{
		ID: "smtp.auth.bad-credentials", Title: "AUTH with a wrong password gets 535", Spec: "RFC 4954 §6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := authSession(ctx, t)
			if s == nil || err != nil {
				return err
			}
			user := t.Options.User
			if user == "" {
				user = "mailcheck-no-such-user"
			}
			s.expect("AUTH PLAIN "+plainResponse(user, "wrong-"+nonce()), "wrong credentials", 535)
			return nil
		},
	},
	{
		ID: "smtp.auth.twice", Title: "A second AUTH after success gets 503", Spec: "RFC 4954 §4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			if !needAuth(t) {
				return nil
			}
			s, err := authSession(ctx, t)
			if s == nil || err != nil {
				return err
			}
			if err := s.authenticate(); err != nil {
				return err
			}
			s.expect("AUTH PLAIN "+plainResponse(t.Options.User, t.Options.Password), "after a successful AUTH further AUTH commands are rejected", 503)
			return nil
		},
	},
	{
		ID: "smtp.auth.in-transaction", Title: "AUTH inside a mail transaction gets 503", Spec: "RFC 4954 §4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := authSession(ctx, t)
			if s == nil || err != nil {
				return err
			}
			s.setup("MAIL FROM:<"+t.Options.From+">", 250)
			defer s.cmd("RSET")
			s.expect("AUTH PLAIN "+plainResponse("mailcheck", "x"), "AUTH is not permitted during a mail transaction", 503)
			return nil
		},
	},
	{
		ID: "smtp.auth.cancel", Title: "A \"*\" response cancels AUTH with 501", Spec: "RFC 4954 §4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := authSession(ctx, t)
			if s == nil || err != nil {
				return err
			}
			// RFC 4954 §4: without an initial response the server sends
			// an empty challenge; the exchange is the setup here.
			s.setup("AUTH PLAIN", 334)
			s.expect("*", "the client cancelled the exchange", 501)
			return nil
		},
	},
	{
		ID: "smtp.auth.bad-base64", Title: "A response that is not base64 gets 501", Spec: "RFC 4954 §4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := authSession(ctx, t)
			if s == nil || err != nil {
				return err
			}
			// RFC 4954 §4: without an initial response the server sends
			// an empty challenge; the exchange is the setup here.
			s.setup("AUTH PLAIN", 334)
			s.expect("!not*base64!", "the server cannot base64-decode the response", 501)
			return nil
		},
	},
	{
		ID: "smtp.auth.not-before-tls", Title: "PLAIN and LOGIN are not offered before STARTTLS", Spec: "RFC 4954 §4, RFC 4616 §6", Level: engine.Should,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := tlsSession(ctx, t)
			if s == nil || err != nil {
				return err
			}
			mechs := " " + strings.ToUpper(s.ext["AUTH"]) + " "
			if strings.Contains(mechs, " PLAIN ") || strings.Contains(mechs, " LOGIN ") {
				t.Fail("clear-text mechanisms offered before TLS: AUTH %s", s.ext["AUTH"])
			}
			return nil
		},
	},
}
