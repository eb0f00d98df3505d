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
	"github.com/mailcheck/mailcheck/internal/smtpwire"
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
	expect := func(line string, code int) (*smtpreply.Reply, error) {
		if line != "" {
			if err := c.Send(line); err != nil {
				return nil, err
			}
		}
		r, err := c.ReadSMTPReply()
		if err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
		if r.Code != code {
			// Seeding is a means, never a check's subject: a refusal is
			// an unmet precondition (the SMTP suite judges the server).
			return r, &engine.PreconditionError{Reason: fmt.Sprintf("seeding a message through SMTP: %q got %s", line, r), Err: ErrRefused}
		}
		return r, nil
	}
	if _, err := expect("", 220); err != nil {
		return err
	}
	ehlo, err := expect("EHLO "+t.Options.ClientName, 250)
	if err != nil {
		return err
	}
	eightBitOK := false
	for _, l := range ehlo.Lines {
		eightBitOK = eightBitOK || l == "8BITMIME"
	}
	for _, msg := range msgs {
		param := ""
		if hasEightBit(msg) {
			if !eightBitOK {
				return ErrNo8BitMIME
			}
			param = " BODY=8BITMIME"
		}
		if _, err := expect("MAIL FROM:<"+t.Options.From+">"+param, 250); err != nil {
			return err
		}
		if _, err := expect("RCPT TO:<"+t.Options.Rcpt+">", 250); err != nil {
			return err
		}
		if _, err := expect("DATA", 354); err != nil {
			return err
		}
		if err := c.Write(smtpwire.AppendDotStuffed(nil, msg)); err != nil {
			return err
		}
		if _, err := expect("", 250); err != nil {
			return err
		}
		if n := NonceOf(msg); n != "" {
			t.Sent(n, via, t.Options.Rcpt)
		}
	}
	c.Send("QUIT")
	return nil
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
