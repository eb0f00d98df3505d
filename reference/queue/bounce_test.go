package queue

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

func TestDeliveryReportFormat(t *testing.T) {
	long := "550 5.1.1 " + strings.Repeat("very-long-reply-word ", 30)
	tests := []struct {
		name        string
		original    string
		wantHeaders string // the third part, decoded
		wantCTE     string
	}{
		{
			name:        "7-bit headers",
			original:    "From: <a@example.org>\r\nSubject: hello\r\n\r\nbody\r\n",
			wantHeaders: "From: <a@example.org>\r\nSubject: hello\r\n",
			wantCTE:     "7bit",
		},
		{
			name:        "8-bit headers are quoted-printable",
			original:    "From: <a@example.org>\r\nSubject: h\xc3\xa9llo\r\n\r\nb\xc3\xa9dy\r\n",
			wantHeaders: "From: <a@example.org>\r\nSubject: h\xc3\xa9llo\r\n",
			wantCTE:     "quoted-printable",
		},
		{
			name:        "no body",
			original:    "Subject: only headers",
			wantHeaders: "Subject: only headers\r\n",
			wantCTE:     "7bit",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report := deliveryReport{
				Hostname: "mx.example.org",
				Sender:   "a@example.org",
				Arrival:  time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
				Now:      time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC),
				Failures: []failure{
					{Rcpt: "b@example.net", Status: "5.1.1", Reason: "host mx.example.net said: " + long, Diagnostic: long, RemoteMTA: "mx.example.net"},
					{Rcpt: "c@example.net", Status: "5.4.7", Reason: "delivery time expired"},
				},
				Headers: headerSection([]byte(tt.original)),
			}
			raw := report.message()
			checkSevenBitCRLF(t, raw)

			msg, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			for field, want := range map[string]string{
				"From":           "Mail Delivery System <MAILER-DAEMON@mx.example.org>",
				"To":             "<a@example.org>",
				"Subject":        "Undelivered Mail Returned to Sender",
				"Auto-Submitted": "auto-replied",
				"MIME-Version":   "1.0",
			} {
				if got := msg.Header.Get(field); got != want {
					t.Errorf("%s: %q, want %q", field, got, want)
				}
			}
			if _, err := msg.Header.Date(); err != nil {
				t.Errorf("Date: %v", err)
			}
			if id := msg.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@mx.example.org>") {
				t.Errorf("Message-ID %q", id)
			}
			mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
			if err != nil || mediaType != "multipart/report" || params["report-type"] != "delivery-status" {
				t.Fatalf("Content-Type %q (%v)", msg.Header.Get("Content-Type"), err)
			}

			parts := multipart.NewReader(msg.Body, params["boundary"])
			var types []string
			var bodies [][]byte
			for {
				p, err := parts.NextRawPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(p)
				if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
					body, _ = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
				}
				types = append(types, p.Header.Get("Content-Type"))
				bodies = append(bodies, body)
				if strings.HasPrefix(p.Header.Get("Content-Type"), "text/rfc822-headers") && p.Header.Get("Content-Transfer-Encoding") != tt.wantCTE {
					t.Errorf("headers part encoding %q, want %q", p.Header.Get("Content-Transfer-Encoding"), tt.wantCTE)
				}
			}
			wantTypes := []string{"text/plain; charset=us-ascii", "message/delivery-status", "text/rfc822-headers"}
			if strings.Join(types, "|") != strings.Join(wantTypes, "|") {
				t.Fatalf("parts %q, want %q", types, wantTypes)
			}
			for _, want := range []string{"<b@example.net>:", "<c@example.net>:", "very-long-reply-word"} {
				if !bytes.Contains(bodies[0], []byte(want)) {
					t.Errorf("human-readable part lacks %q:\n%s", want, bodies[0])
				}
			}

			// RFC 3464 §2.1: per-message fields, then one group per recipient.
			status := textproto.NewReader(bufio.NewReader(bytes.NewReader(bodies[1])))
			perMessage, err := status.ReadMIMEHeader()
			if err != nil {
				t.Fatal(err)
			}
			if got := perMessage.Get("Reporting-MTA"); got != "dns; mx.example.org" {
				t.Errorf("Reporting-MTA %q", got)
			}
			wantRcpts := []map[string]string{
				{"Final-Recipient": "rfc822; b@example.net", "Action": "failed", "Status": "5.1.1", "Remote-MTA": "dns; mx.example.net", "Diagnostic-Code": "smtp; " + strings.TrimSpace(long)},
				{"Final-Recipient": "rfc822; c@example.net", "Action": "failed", "Status": "5.4.7", "Remote-MTA": "", "Diagnostic-Code": ""},
			}
			for _, want := range wantRcpts {
				fields, err := status.ReadMIMEHeader()
				if err != nil && err != io.EOF {
					t.Fatal(err)
				}
				for name, value := range want {
					if got := fields.Get(name); got != value {
						t.Errorf("%s: %q, want %q", name, got, value)
					}
				}
			}
			if string(bodies[2]) != tt.wantHeaders {
				t.Errorf("returned headers %q, want %q", bodies[2], tt.wantHeaders)
			}
		})
	}
}

// checkSevenBitCRLF checks RFC 5322 §2.1/§2.1.1 and the 7bit encoding:
// US-ASCII, CRLF line ends only, lines of at most 998 octets.
func checkSevenBitCRLF(t *testing.T, raw []byte) {
	t.Helper()
	for i, c := range raw {
		if c >= 0x80 || c == 0 {
			t.Fatalf("octet %#x at %d", c, i)
		}
		if c == '\n' && (i == 0 || raw[i-1] != '\r') || c == '\r' && (i+1 == len(raw) || raw[i+1] != '\n') {
			t.Fatalf("bare CR or LF at %d", i)
		}
	}
	for _, line := range bytes.Split(raw, []byte("\r\n")) {
		if len(line) > 998 {
			t.Fatalf("line of %d octets", len(line))
		}
	}
}
