package fetch

import (
	"bufio"
	"bytes"
	"mime"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Field is a header field to match: a message matches when one of its
// fields of that name (any case) has exactly this value, compared after
// unfolding and trimming (RFC 5322 §2.2.3), as written or decoded from
// RFC 2047 encoded words.
type Field struct{ Name, Value string }

// headerSection cuts a message (or a header fetched alone) at the empty
// line that ends its header (RFC 5322 §2.1), which it keeps.
func headerSection(b []byte) []byte {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return b[:i+4]
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return b[:i+2]
	}
	return b
}

// header parses the message's header, leniently: what does not parse is
// left out.
func (m Message) header() mail.Header {
	h, _ := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(m.Header)))
	return mail.Header{Header: message.Header{Header: h}}
}

// From is the decoded From field: "Name <addr>" or the address.
func (m Message) From() string {
	h := m.header()
	addrs, err := h.AddressList("From")
	if err != nil || len(addrs) == 0 {
		return unfold(h.Get("From"))
	}
	parts := make([]string, len(addrs))
	for i, a := range addrs {
		parts[i] = a.Address
		if a.Name != "" {
			parts[i] = a.Name + " <" + a.Address + ">"
		}
	}
	return strings.Join(parts, ", ")
}

// Subject is the decoded Subject field.
func (m Message) Subject() string {
	h := m.header()
	s, err := h.Subject()
	if err != nil {
		return unfold(h.Get("Subject"))
	}
	return unfold(s)
}

// Date is the Date field as written.
func (m Message) Date() string {
	h := m.header()
	return unfold(h.Get("Date"))
}

// Matches reports whether the message has every field.
func (m Message) Matches(fields []Field) bool {
	if len(fields) == 0 {
		return true
	}
	h := m.header()
	dec := mime.WordDecoder{}
	for _, f := range fields {
		want := strings.TrimSpace(f.Value)
		found := false
		for _, v := range h.Values(f.Name) {
			v = unfold(v)
			if v == want {
				found = true
				break
			}
			if d, err := dec.DecodeHeader(v); err == nil && unfold(d) == want {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// unfold removes the CRLFs of folded lines (RFC 5322 §2.2.3) and the
// white space around the value.
func unfold(v string) string {
	v = strings.NewReplacer("\r\n", "", "\n", "").Replace(v)
	return strings.TrimSpace(v)
}

func isSubject(name string) bool { return strings.EqualFold(name, "Subject") }
