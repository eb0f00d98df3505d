package compose

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
)

// parse reads a composed message back with go-message's reader: the text
// part's bytes (transfer encoding undone) and the attachments by name.
func parse(t *testing.T, msg []byte) (mail.Header, []byte, map[string][]byte) {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	var text []byte
	atts := map[string][]byte{}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatal(err)
		}
		switch h := p.Header.(type) {
		case *mail.InlineHeader:
			text = b
		case *mail.AttachmentHeader:
			name, _ := h.Filename()
			atts[name] = b
		}
	}
	return r.Header, text, atts
}

func TestComposeHeaderFields(t *testing.T) {
	date := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	msg, id, err := Compose(Message{
		From: "Alice <alice@example.org>", To: []string{"bob@example.net", "Carol <carol@example.net>"},
		Subject: "Grüße", Body: []byte("hi\n"), Date: date,
		Fields: []Field{{"X-Test", "1"}, {"X-Second", "two"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.org>") {
		t.Errorf("Message-ID %q: want <…@example.org>", id)
	}
	head := string(msg[:bytes.Index(msg, []byte("\r\n\r\n"))])
	for _, want := range []string{
		"Date: Sat, 31 Jan 2026 12:00:00 +0000\r\n", "From: \"Alice\" <alice@example.org>\r\n",
		"Message-ID: " + id + "\r\n", "MIME-Version: 1.0\r\n", "X-Test: 1\r\nX-Second: two\r\n",
		"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n", "Content-Type: text/plain; charset=us-ascii\r\n",
		"Content-Transfer-Encoding: 7bit",
	} {
		if !strings.Contains(head+"\r\n", want) {
			t.Errorf("header lacks %q:\n%s", want, head)
		}
	}
	if !strings.HasPrefix(head, "Date: ") {
		t.Errorf("the header does not start with Date:\n%s", head)
	}
	h, text, _ := parse(t, msg)
	if s, _ := h.Subject(); s != "Grüße" {
		t.Errorf("subject decodes to %q", s)
	}
	if to, _ := h.AddressList("To"); len(to) != 2 || to[1].Address != "carol@example.net" {
		t.Errorf("To: %v", to)
	}
	if string(text) != "hi\r\n" {
		t.Errorf("text %q", text)
	}
	if MessageID(msg) != id {
		t.Errorf("MessageID(msg) = %q, want %q", MessageID(msg), id)
	}
}

// The lines a dot-stuffing bug would break, and every line end, arrive as
// CRLF lines in the text part, unencoded (7bit) so they are on the wire.
func TestComposeKeepsDotLines(t *testing.T) {
	msg, _, err := Compose(Message{From: "a@example.org", To: []string{"b@example.org"}, Body: []byte(".\n..\n.x\r\nlast")})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(msg, []byte("\r\n\r\n.\r\n..\r\n.x\r\nlast\r\n")) {
		t.Errorf("message ends %q", msg[len(msg)-40:])
	}
}

func TestComposeAttachments(t *testing.T) {
	binary := make([]byte, 3000)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	msg, _, err := Compose(Message{
		From: "a@example.org", To: []string{"b@example.org"}, Body: []byte(".\n..\n.x\n"),
		Attachments: []Attachment{{Name: "data.bin", Data: binary}, {Name: "notes.txt", Data: []byte("no final newline")}, {Name: "résumé.pdf", Data: []byte("%PDF")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(msg, []byte("Content-Type: multipart/mixed;")) {
		t.Errorf("not multipart:\n%s", msg)
	}
	for _, c := range msg {
		if c >= 0x80 {
			t.Fatalf("8-bit octet in a message composed for a 7-bit transport:\n%s", msg)
		}
	}
	_, text, atts := parse(t, msg)
	if string(text) != ".\r\n..\r\n.x\r\n" {
		t.Errorf("text %q", text)
	}
	if !bytes.Equal(atts["data.bin"], binary) || string(atts["notes.txt"]) != "no final newline" || string(atts["résumé.pdf"]) != "%PDF" {
		t.Errorf("attachments do not decode to their files: %d names", len(atts))
	}
}

func TestComposeTransferEncoding(t *testing.T) {
	long := strings.Repeat("x", 1200)
	for _, tc := range []struct {
		body     string
		eightBit bool
		want     string
	}{
		{"plain ASCII\n", false, "7bit"},
		{"plain ASCII\n", true, "7bit"},
		{"ünïcödé\n", false, "quoted-printable"},
		{"ünïcödé\n", true, "8bit"},
		{long + "\n", false, "quoted-printable"},
		{long + "\n", true, "quoted-printable"},
		{"nul \x00 octet\n", true, "quoted-printable"},
	} {
		msg, _, err := Compose(Message{From: "a@example.org", To: []string{"b@example.org"}, Body: []byte(tc.body), EightBit: tc.eightBit})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(msg, []byte("Content-Transfer-Encoding: "+tc.want+"\r\n")) {
			t.Errorf("body %.20q eightBit=%v: want %s in\n%s", tc.body, tc.eightBit, tc.want, msg)
			continue
		}
		_, text, _ := parse(t, msg)
		if want := strings.ReplaceAll(tc.body, "\n", "\r\n"); string(text) != want {
			t.Errorf("body %.20q eightBit=%v: decodes to %.40q", tc.body, tc.eightBit, text)
		}
		for _, line := range bytes.Split(msg, []byte("\r\n")) {
			if len(line) > 998 {
				t.Errorf("body %.20q: a line of %d octets", tc.body, len(line))
			}
		}
	}
}

func TestComposeRefuses(t *testing.T) {
	ok := Message{From: "a@example.org", To: []string{"b@example.org"}}
	for name, m := range map[string]Message{
		"bad from":           {From: "not an address"},
		"bad to":             {From: "a@example.org", To: []string{"b@"}},
		"From as a field":    {From: "a@example.org", Fields: []Field{{"From", "x@example.org"}}},
		"MIME as a field":    {From: "a@example.org", Fields: []Field{{"Content-Type", "text/html"}}},
		"space in a name":    {From: "a@example.org", Fields: []Field{{"X Test", "1"}}},
		"CRLF in a value":    {From: "a@example.org", Fields: []Field{{"X-Test", "1\r\nBcc: x@example.org"}}},
		"body not UTF-8":     {From: "a@example.org", Body: []byte{0xff, 0xfe}},
		"subject as a field": {From: "a@example.org", Fields: []Field{{"subject", "x"}}},
	} {
		if _, _, err := Compose(m); err == nil {
			t.Errorf("%s: composed", name)
		}
	}
	if _, _, err := Compose(ok); err != nil {
		t.Errorf("a valid message refused: %v", err)
	}
}

func TestComposeKeepsGivenMessageIDAndDate(t *testing.T) {
	msg, id, err := Compose(Message{From: "a@example.org", Fields: []Field{{"Message-ID", "<given@example.org>"}, {"Date", "Mon, 2 Feb 2026 10:00:00 +0100"}}})
	if err != nil {
		t.Fatal(err)
	}
	if id != "<given@example.org>" || bytes.Count(msg, []byte("Message-ID:")) != 1 || bytes.Count(msg, []byte("Date:")) != 1 ||
		!bytes.Contains(msg, []byte("Date: Mon, 2 Feb 2026 10:00:00 +0100\r\n")) {
		t.Errorf("id %q, message:\n%s", id, msg)
	}
}

func TestParseField(t *testing.T) {
	if f, err := ParseField("X-Test:  1 "); err != nil || f != (Field{"X-Test", "1"}) {
		t.Errorf("got %v %v", f, err)
	}
	for _, bad := range []string{"no colon", ": empty name", "Bad Name: x"} {
		if _, err := ParseField(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestWhole(t *testing.T) {
	msg, id, err := Whole([]byte("Message-ID: <w@example.org>\nSubject: x\n\n.\n..\r\n.x"), []Field{{"X-Top", "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "X-Top: 1\r\nMessage-ID: <w@example.org>\r\nSubject: x\r\n\r\n.\r\n..\r\n.x\r\n"; string(msg) != want || id != "<w@example.org>" {
		t.Errorf("got %q (%q), want %q", msg, id, want)
	}
	if _, _, err := Whole([]byte("Subject: x\r\n\r\nbare\rCR\r\n"), nil); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("bare CR: %v", err)
	}
	if _, _, err := Whole([]byte(" \n"), nil); err == nil {
		t.Error("an empty message accepted")
	}
}
