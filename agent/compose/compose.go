// Package compose builds the messages the user agent sends: RFC 5322
// header fields (Date, From, To, Subject, Message-ID) and MIME (RFC 2045,
// RFC 2046): one text/plain part, or multipart/mixed with attachments.
package compose

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/textproto"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// Message is what to compose.
type Message struct {
	// From is the author: "alice@example.org" or "Alice <alice@example.org>".
	From string
	// To are the recipients shown in the To field, same forms as From.
	To []string
	// Subject is unstructured text; non-ASCII is encoded (RFC 2047).
	Subject string
	// Body is the text, UTF-8, with any line ends (converted to CRLF).
	Body []byte
	// Attachments follow the text as parts of a multipart/mixed message.
	Attachments []Attachment
	// Fields are more header fields, in order, after the standard ones. A
	// Date or Message-ID among them replaces the generated one.
	Fields []Field
	// EightBit allows 8-bit text (Content-Transfer-Encoding: 8bit) when
	// the transport offers 8BITMIME (RFC 6152); otherwise non-ASCII text
	// is quoted-printable, so the message is 7-bit clean.
	EightBit bool
	// Date is the Date field; zero means now.
	Date time.Time
}

// Attachment is a file sent along.
type Attachment struct {
	// Name is the file name shown to the recipient.
	Name string
	// ContentType is the media type; "" guesses it from the name, else
	// application/octet-stream.
	ContentType string
	Data        []byte
}

// Field is one header field.
type Field struct{ Name, Value string }

// ParseField parses "Name: value" as given on a command line.
func ParseField(s string) (Field, error) {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return Field{}, fmt.Errorf("header %q: want 'Name: value'", s)
	}
	f := Field{Name: name, Value: strings.TrimSpace(value)}
	return f, f.check()
}

// check applies RFC 5322 §2.2: a field name is printable US-ASCII except
// colon; a value here is one line (folding is done when it is written).
func (f Field) check() error {
	if f.Name == "" {
		return errors.New("header field with an empty name")
	}
	for i := 0; i < len(f.Name); i++ {
		if c := f.Name[i]; c < 33 || c > 126 || c == ':' {
			return fmt.Errorf("header field name %q: only printable ASCII without ':' or spaces (RFC 5322 §2.2)", f.Name)
		}
	}
	if strings.ContainsAny(f.Value, "\r\n\x00") {
		return fmt.Errorf("header field %s: the value holds CR, LF or NUL", f.Name)
	}
	return nil
}

// Fields the composition sets itself: given with --header they would be
// duplicates (RFC 5322 §3.6 allows one of each) or break the MIME structure.
var composedFields = map[string]string{
	"From": "--from", "To": "--to", "Subject": "--subject", "Mime-Version": "",
	"Content-Type": "", "Content-Transfer-Encoding": "",
}

// Compose returns the message, CRLF line ends throughout, and its
// Message-ID (with angle brackets).
func Compose(m Message) ([]byte, string, error) {
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return nil, "", fmt.Errorf("from %q: %v", m.From, err)
	}
	var to []*mail.Address
	for _, t := range m.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return nil, "", fmt.Errorf("to %q: %v", t, err)
		}
		to = append(to, a)
	}
	if !utf8.Valid(m.Body) {
		return nil, "", errors.New("the body is not UTF-8 text: send the file with --attach instead")
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	var id string
	var extra []Field
	userDate := false
	for _, f := range m.Fields {
		if err := f.check(); err != nil {
			return nil, "", err
		}
		switch canon := textproto.CanonicalMIMEHeaderKey(f.Name); {
		case canon == "Message-Id":
			id = f.Value
			continue
		case canon == "Date":
			userDate = true
		default:
			if flag, ok := composedFields[canon]; ok {
				if flag != "" {
					return nil, "", fmt.Errorf("header %s: set it with %s", f.Name, flag)
				}
				return nil, "", fmt.Errorf("header %s: the MIME structure is composed, not given", f.Name)
			}
		}
		extra = append(extra, f)
	}
	if id == "" {
		var scratch mail.Header
		if err := scratch.GenerateMessageIDWithHostname(from.Address[strings.LastIndexByte(from.Address, '@')+1:]); err != nil {
			return nil, "", err
		}
		id = scratch.Get("Message-Id")
	}

	body := CRLF(m.Body)
	if len(body) > 0 && !bytes.HasSuffix(body, []byte("\r\n")) {
		// A message ends with a line end: SMTP would add one anyway
		// (RFC 5321 §4.1.1.4), and the stored message would differ.
		body = append(body, '\r', '\n')
	}
	textType, textEncoding := textPart(body, m.EightBit)

	// The header is built bottom-up: go-message's Add puts a field at the
	// top (it keeps fields in reverse, as DKIM needs), so the last field
	// is added first.
	var h mail.Header
	var boundary string
	if len(m.Attachments) > 0 {
		boundary = newBoundary()
		h.Add("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": boundary}))
	} else {
		h.Add("Content-Transfer-Encoding", textEncoding)
		h.Add("Content-Type", textType)
	}
	for i := len(extra) - 1; i >= 0; i-- {
		h.Add(extra[i].Name, encodeText(extra[i].Value))
	}
	h.AddRaw([]byte("MIME-Version: 1.0\r\n"))
	h.AddRaw([]byte("Message-ID: " + id + "\r\n"))
	if m.Subject != "" {
		h.SetSubject(m.Subject)
	}
	if len(to) > 0 {
		h.SetAddressList("To", to)
	}
	h.SetAddressList("From", []*mail.Address{from})
	if !userDate {
		h.SetDate(date)
	}

	var out bytes.Buffer
	w, err := message.CreateWriter(&out, h.Header)
	if err != nil {
		return nil, "", err
	}
	if len(m.Attachments) == 0 {
		if _, err := w.Write(body); err != nil {
			return nil, "", err
		}
		if err := w.Close(); err != nil {
			return nil, "", err
		}
		return out.Bytes(), id, nil
	}
	var th message.Header
	th.Add("Content-Transfer-Encoding", textEncoding)
	th.Add("Content-Type", textType)
	pw, err := w.CreatePart(th)
	if err != nil {
		return nil, "", err
	}
	if _, err := pw.Write(body); err != nil {
		return nil, "", err
	}
	if err := pw.Close(); err != nil {
		return nil, "", err
	}
	for _, a := range m.Attachments {
		var ah mail.AttachmentHeader
		ah.Set("Content-Transfer-Encoding", "base64")
		ct := a.ContentType
		if ct == "" {
			ct = mime.TypeByExtension(filepath.Ext(a.Name))
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		ah.Set("Content-Type", ct)
		ah.SetFilename(a.Name)
		pw, err := w.CreatePart(ah.Header)
		if err != nil {
			return nil, "", err
		}
		if _, err := pw.Write(a.Data); err != nil {
			return nil, "", err
		}
		if err := pw.Close(); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return out.Bytes(), id, nil
}
