package smtpsend

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mailcheck/mailcheck/agent/compose"
)

// Draft is a message as `mailcheck send` describes it: composed from
// parts (compose.Compose), or a whole message file (compose.Whole), with
// extra header fields either way. Files are named by path. The words of
// its errors are the send command's flags.
type Draft struct {
	// From is the author and reverse-path; To the recipients, in the To
	// field and the envelope. Either form of an RFC 5322 mailbox.
	From string
	To   []string
	// Subject, and the text: Body, or the file BodyFile.
	Subject, Body, BodyFile string
	// Data is the file of a whole message, sent instead of a composed one.
	Data string
	// Attach are the files to attach; Headers, "Name: value" fields.
	Attach, Headers []string
	// EightBit lets composed text be 8bit (the message goes with
	// BODY=8BITMIME).
	EightBit bool
}

// Build checks the addresses, sets the envelope of o (From, To) and
// returns the message to send with its Message-ID.
func (d Draft) Build(o *Options) ([]byte, string, error) {
	if d.From == "" || len(d.To) == 0 {
		return nil, "", errors.New("--from and --to are required")
	}
	if err := d.envelope(o); err != nil {
		return nil, "", err
	}
	var fields []compose.Field
	for _, h := range d.Headers {
		field, err := compose.ParseField(h)
		if err != nil {
			return nil, "", fmt.Errorf("--header: %v", err)
		}
		fields = append(fields, field)
	}
	sources := 0
	for _, s := range []string{d.Body, d.BodyFile, d.Data} {
		if s != "" {
			sources++
		}
	}
	if sources > 1 {
		return nil, "", errors.New("give one of --body, --body-file and --data")
	}
	if d.Data != "" {
		return d.whole(fields)
	}
	return d.compose(fields)
}

// envelope sets o's reverse-path and forward-paths from the addresses.
func (d Draft) envelope(o *Options) error {
	from, err := EnvelopeAddress(d.From)
	if err != nil {
		return fmt.Errorf("--from: %v", err)
	}
	o.From = from
	for _, t := range d.To {
		addr, err := EnvelopeAddress(t)
		if err != nil {
			return fmt.Errorf("--to: %v", err)
		}
		o.To = append(o.To, addr)
	}
	return nil
}

// whole reads the message of Data and puts fields at its top.
func (d Draft) whole(fields []compose.Field) ([]byte, string, error) {
	if d.Subject != "" || len(d.Attach) > 0 {
		return nil, "", errors.New("--data sends a whole message: --subject and --attach do not apply")
	}
	data, err := os.ReadFile(d.Data)
	if err != nil {
		return nil, "", fmt.Errorf("--data: %v", err)
	}
	msg, id, err := compose.Whole(data, fields)
	if err != nil {
		return nil, "", fmt.Errorf("--data %s: %v", d.Data, err)
	}
	return msg, id, nil
}

// compose composes the message of the parts.
func (d Draft) compose(fields []compose.Field) ([]byte, string, error) {
	m := compose.Message{From: d.From, To: d.To, Subject: d.Subject, Body: []byte(d.Body), Fields: fields, EightBit: d.EightBit}
	var err error
	if d.BodyFile != "" {
		if m.Body, err = os.ReadFile(d.BodyFile); err != nil {
			return nil, "", fmt.Errorf("--body-file: %v", err)
		}
	}
	for _, path := range d.Attach {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, "", fmt.Errorf("--attach: %v", err)
		}
		m.Attachments = append(m.Attachments, compose.Attachment{Name: filepath.Base(path), Data: data})
	}
	return compose.Compose(m)
}
