package smtpsend

import (
	"fmt"
	"net/mail"
	"os"
	"strings"
)

// EnvelopeAddress takes the address of an RFC 5322 mailbox, "Name <addr>"
// or "addr", for the envelope, and checks it is an SMTP path
// (CheckAddress).
func EnvelopeAddress(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", fmt.Errorf("%q: %v", s, err)
	}
	if err := CheckAddress(a.Address); err != nil {
		return "", err
	}
	return a.Address, nil
}

// DefaultClientName is the EHLO name of a client given none: this host's
// name when it is a domain name, else "localhost" (RFC 5321 §4.1.1.1 wants
// the client's domain in EHLO).
func DefaultClientName() string {
	h, err := os.Hostname()
	if err != nil || h == "" || strings.Trim(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != "" {
		return "localhost"
	}
	return h
}

// Has8Bit reports whether msg holds an octet above 127, which a server
// may refuse unless the message is sent with BODY=8BITMIME (RFC 6152).
func Has8Bit(msg []byte) bool {
	for _, c := range msg {
		if c >= 0x80 {
			return true
		}
	}
	return false
}
