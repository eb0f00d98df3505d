package imapbackend

import (
	"mime"
	"strconv"
	"strings"
)

// envelopeDateLayout is how go-imap writes the envelope date; the raw
// ENVELOPE writes it the same way, so the two writers agree.
const envelopeDateLayout = "Mon, 02 Jan 2006 15:04:05 -0700"

// wire renders the envelope (RFC 9051 §9, envelope) with each address's
// route as its ADL; rawfetch.go writes it where go-imap cannot.
func (e *envelope) wire() []byte {
	env := e.env
	var b strings.Builder
	b.WriteByte('(')
	date := ""
	if !env.Date.IsZero() {
		date = env.Date.Format(envelopeDateLayout)
	}
	b.WriteString(nstring(date) + " " + nstring(mime.QEncoding.Encode("utf-8", env.Subject)))
	from, sender, replyTo := e.addrs[0], e.addrs[1], e.addrs[2]
	// RFC 9051 §7.5.2: an absent or empty Sender or Reply-To is From.
	if len(sender) == 0 {
		sender = from
	}
	if len(replyTo) == 0 {
		replyTo = from
	}
	for _, l := range [][]envAddress{from, sender, replyTo, e.addrs[3], e.addrs[4], e.addrs[5]} {
		b.WriteString(" " + addressListWire(l))
	}
	inReplyTo := ""
	if len(env.InReplyTo) > 0 {
		inReplyTo = "<" + strings.Join(env.InReplyTo, "> <") + ">"
	}
	messageID := ""
	if env.MessageID != "" {
		messageID = "<" + env.MessageID + ">"
	}
	b.WriteString(" " + nstring(inReplyTo) + " " + nstring(messageID) + ")")
	return []byte(b.String())
}

// addressListWire renders "((name adl mailbox host) ...)" or NIL.
func addressListWire(l []envAddress) string {
	if len(l) == 0 {
		return "NIL"
	}
	var b strings.Builder
	b.WriteByte('(')
	for _, a := range l {
		b.WriteString("(" + nstring(mime.QEncoding.Encode("utf-8", a.Name)) + " " + nstring(a.Route) + " " +
			nstring(a.Mailbox) + " " + nstring(a.Host) + ")")
	}
	b.WriteByte(')')
	return b.String()
}

// nstring renders s as NIL when empty, else as a quoted string, or as a
// literal when a quoted string cannot carry it (RFC 9051 §9: quoted holds
// 7-bit text without CR or LF).
func nstring(s string) string {
	if s == "" {
		return "NIL"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 || c >= 0x80 {
			return "{" + strconv.Itoa(len(s)) + "}\r\n" + s
		}
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
