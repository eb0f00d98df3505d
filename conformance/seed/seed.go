// Package seed puts test messages into the mailbox a POP3 or IMAP check
// reads: it sends them over SMTP (Options.Seed) to Options.Rcpt. Each
// message carries an X-Mailcheck-Nonce header, by which the suites find
// their own messages and delete only those.
package seed

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/smtp/smtpclient"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// ErrNoSeed is returned when no SMTP seed server was configured.
var ErrNoSeed = errors.New("no seed server (--seed smtp://… with --rcpt)")

// ErrNo8BitMIME is returned for a message with 8-bit octets when the seed
// server does not offer 8BITMIME (RFC 6152): it is not sent.
var ErrNo8BitMIME = errors.New("seed: 8-bit message, and the server does not offer 8BITMIME")

// ErrRefused is wrapped by Send's errors when the server refused a step
// (as opposed to a broken connection).
var ErrRefused = errors.New("refused")

// Nonce returns a fresh marker for a test message.
func Nonce() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Message builds a test message marked with nonce n, with body (CRLF lines).
func Message(t *engine.T, n, subject, body string) []byte {
	return []byte("Date: " + time.Now().Format(time.RFC1123Z) + "\r\n" +
		"From: <" + t.Options.From + ">\r\n" +
		"To: <" + t.Options.Rcpt + ">\r\n" +
		"Subject: " + subject + "\r\n" +
		"Message-ID: <" + n + "@mailcheck.invalid>\r\n" +
		"X-Mailcheck-Nonce: " + n + "\r\n" +
		"\r\n" + body)
}

// Send delivers msgs to Options.Rcpt through the seed server over one SMTP
// session, with BODY=8BITMIME when a message holds 8-bit octets and the
// server offers it.
func Send(ctx context.Context, t *engine.T, msgs ...[]byte) error {
	if t.Options.Seed == nil || t.Options.Rcpt == "" {
		return ErrNoSeed
	}
	return SendVia(ctx, t, *t.Options.Seed, msgs...)
}

// SendVia is Send through the SMTP server via. Each message accepted goes
// into the run's ledger (engine.T.Sent), by which the run deletes what its
// checks leave behind.
func SendVia(ctx context.Context, t *engine.T, via engine.Target, msgs ...[]byte) error {
	c, err := t.DialTarget(ctx, via)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer c.Close()
	smtp := c.SMTP()
	if _, err := smtp.Greeting(); err != nil {
		return refused("the greeting", err)
	}
	caps, _, err := smtp.Hello(t.Options.ClientName)
	if err != nil {
		return refused("EHLO", err)
	}
	for _, msg := range msgs {
		var params []string
		if hasEightBit(msg) {
			if !caps.EightBitMIME() {
				return ErrNo8BitMIME
			}
			params = append(params, "BODY=8BITMIME") // RFC 6152 §2
		}
		if err := transaction(smtp, t, params, msg); err != nil {
			return err
		}
		if n := NonceOf(msg); n != "" {
			t.Sent(n, via, t.Options.Rcpt)
		}
	}
	smtp.Quit()
	return nil
}

// transaction sends msg from --from to --rcpt.
func transaction(smtp *smtpclient.Client, t *engine.T, params []string, msg []byte) error {
	if _, err := smtp.Mail(t.Options.From, params...); err != nil {
		return refused(smtpclient.MailCommand(t.Options.From, params...), err)
	}
	if _, err := smtp.Rcpt(t.Options.Rcpt); err != nil {
		return refused(smtpclient.RcptCommand(t.Options.Rcpt), err)
	}
	if _, err := smtp.Data(); err != nil {
		return refused("DATA", err)
	}
	if _, err := smtp.Message(msg); err != nil {
		return refused("the message", err)
	}
	return nil
}

// refused explains a failed step: a refusing reply is an unmet
// precondition, as seeding is a means, never a check's subject (the SMTP
// suite judges the server); anything else is a broken connection.
func refused(step string, err error) error {
	var r *smtpreply.Reply
	if errors.As(err, &r) {
		return &engine.PreconditionError{Reason: fmt.Sprintf("seeding a message through SMTP: %s got %s", step, r), Err: ErrRefused}
	}
	return fmt.Errorf("seed: %w", err)
}

var nonceRE = regexp.MustCompile(`(?m)^X-Mailcheck-Nonce: ([0-9a-f]+)\r$`)

// NonceOf returns the nonce that marks msg ("" if none).
func NonceOf(msg []byte) string {
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	if m := nonceRE.FindSubmatch(append(head, '\r', '\n')); m != nil {
		return string(m[1])
	}
	return ""
}

func hasEightBit(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}
