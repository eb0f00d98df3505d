package imapbackend

import (
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"
)

// envelope is the ENVELOPE of a message with header h (RFC 9051 §7.5.2).
// go-imap's ExtractEnvelope reads the address fields with net/mail, which
// flattens groups and rejects a source-routed or commented address (the
// whole field then reads as NIL); they are read here by parseAddressList.
func envelope(h textproto.Header) *imap.Envelope {
	env := imapserver.ExtractEnvelope(h)
	for _, f := range []struct {
		key string
		dst *[]imap.Address
	}{
		{"From", &env.From}, {"Sender", &env.Sender}, {"Reply-To", &env.ReplyTo},
		{"To", &env.To}, {"Cc", &env.Cc}, {"Bcc", &env.Bcc},
	} {
		// An absent or empty field is nil: the writer then puts From in
		// Sender and Reply-To, as RFC 9051 §7.5.2 asks.
		*f.dst = parseAddressList(h.Get(f.key))
	}
	return env
}

// addressFields are the header fields SEARCH FROM, TO, CC and BCC name
// (RFC 9051 §6.4.4).
var addressFields = []string{"From", "To", "Cc", "Bcc"}

// addressContains reports whether value is part of the envelope's reading
// of the address field (RFC 9051 §6.4.4: FROM matches "the envelope
// structure's FROM field"): of an address's name, its local@domain, or a
// group's name. imapserver hands SEARCH FROM x and HEADER FROM x over the
// same way, so the caller matches the raw text too, which HEADER asks.
func addressContains(fieldValue, value string) bool {
	value = strings.ToLower(value)
	for _, a := range parseAddressList(fieldValue) {
		text := a.Name + " <" + a.Mailbox + "@" + a.Host + ">"
		if a.IsGroupStart() {
			text = a.Mailbox
		}
		if strings.Contains(strings.ToLower(text), value) {
			return true
		}
	}
	return false
}
