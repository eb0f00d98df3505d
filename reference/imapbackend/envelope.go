package imapbackend

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"
)

// envelope is the ENVELOPE of a message with header h (RFC 9051 §7.5.2).
// go-imap's ExtractEnvelope reads the address fields with net/mail, which
// flattens groups and rejects a source-routed or commented address (the
// whole field then reads as NIL); they are read here by parseAddressList.
type envelope struct {
	env *imap.Envelope
	// addrs are From, Sender, Reply-To, To, Cc and Bcc, in envelope order,
	// with their routes.
	addrs [6][]envAddress
}

// envelopeOf reads the envelope of a message, or nil when its header cannot
// be read.
func envelopeOf(content []byte) *envelope {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(content)))
	if err != nil {
		return nil
	}
	return readEnvelope(h)
}

func readEnvelope(h textproto.Header) *envelope {
	e := &envelope{env: imapserver.ExtractEnvelope(h)}
	dsts := [6]*[]imap.Address{&e.env.From, &e.env.Sender, &e.env.ReplyTo, &e.env.To, &e.env.Cc, &e.env.Bcc}
	for i, key := range [6]string{"From", "Sender", "Reply-To", "To", "Cc", "Bcc"} {
		// An absent or empty field is nil: Sender and Reply-To then take
		// From's value (RFC 9051 §7.5.2), which go-imap's writer does.
		e.addrs[i] = parseAddressList(h.Get(key))
		*dsts[i] = imapAddresses(e.addrs[i])
	}
	return e
}

// routed reports whether an address has a source route, which go-imap's
// writer cannot carry (rawfetch.go writes the ENVELOPE then).
func (e *envelope) routed() bool {
	for _, l := range e.addrs {
		for _, a := range l {
			if a.Route != "" {
				return true
			}
		}
	}
	return false
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
	for _, a := range imapAddresses(parseAddressList(fieldValue)) {
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
