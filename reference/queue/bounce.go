package queue

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime/quotedprintable"
	"strings"
	"time"
)

// bounce builds the delivery status notification for the failed
// recipients of an entry and hands it to Options.Bounce.
func (q *Queue) bounce(ctx context.Context, e *entry, failures []failure) error {
	msg, err := q.readMessage(e)
	if err != nil {
		// The report goes out without the original headers rather than
		// not at all.
		q.log.Error("queue: cannot read message for its bounce", "id", e.id, "err", err)
	}
	report := deliveryReport{
		Hostname: q.opts.Hostname,
		Sender:   e.env.From,
		Arrival:  e.env.Created,
		Now:      q.opts.Now(),
		Failures: failures,
		Headers:  headerSection(msg),
	}
	dsn := report.message()
	if q.opts.Bounce == nil {
		q.log.Error("queue: no Bounce function; bounce dropped", "id", e.id, "sender", e.env.From, "rcpts", failedRcpts(failures))
		return nil
	}
	if q.opts.CommandTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, q.opts.CommandTimeout)
		defer cancel()
	}
	if err := q.opts.Bounce(ctx, e.env.From, dsn); err != nil {
		return err
	}
	q.log.Info("queue: bounced", "id", e.id, "sender", e.env.From, "rcpts", failedRcpts(failures))
	return nil
}

// deliveryReport is a delivery status notification: RFC 3464 inside the
// multipart/report of RFC 6522.
type deliveryReport struct {
	Hostname string
	Sender   string
	Arrival  time.Time
	Now      time.Time
	Failures []failure
	// Headers is the header section of the original message.
	Headers []byte
}

// message renders the report as an RFC 5322 message: 7-bit, CRLF line ends,
// three parts — a text for people, the message/delivery-status for
// programs, and the original headers as text/rfc822-headers (RFC 6522 §3:
// returning only the headers is allowed, and does not send the content back
// to an address that may be forged).
func (r deliveryReport) message() []byte {
	var b bytes.Buffer
	boundary := "=_" + randomHex(16)
	line := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteString("\r\n")
	}
	date := r.Now.Format(time.RFC1123Z) // RFC 5322 §3.3 date-time

	line("From: Mail Delivery System <MAILER-DAEMON@%s>", r.Hostname)
	line("To: <%s>", sevenBit(r.Sender))
	line("Subject: Undelivered Mail Returned to Sender")
	line("Date: %s", date)
	line("Message-ID: <%s.%d@%s>", randomHex(8), r.Now.UnixNano(), r.Hostname)
	// RFC 3834 §5: mark it as automatic so that responders do not answer.
	line("Auto-Submitted: auto-replied")
	line("MIME-Version: 1.0")
	line("Content-Type: multipart/report; report-type=delivery-status;")
	line("\tboundary=\"%s\"", boundary)
	line("Content-Transfer-Encoding: 7bit")
	line("")
	line("This is a MIME-encapsulated message.")
	line("")

	// The human-readable part (RFC 6522 §3, first part).
	line("--%s", boundary)
	line("Content-Type: text/plain; charset=us-ascii")
	line("Content-Description: Notification")
	line("Content-Transfer-Encoding: 7bit")
	line("")
	line("This is the mail system at host %s.", r.Hostname)
	line("")
	line("Your message could not be delivered to one or more recipients.")
	line("Its headers are attached below.")
	line("")
	for _, f := range r.Failures {
		b.WriteString(fold("<"+sevenBit(f.Rcpt)+">:", sevenBit(f.Reason), "    "))
	}
	line("")

	// The machine-readable part (RFC 3464 §2): per-message fields, then
	// one block of per-recipient fields for each recipient.
	line("--%s", boundary)
	line("Content-Type: message/delivery-status")
	line("Content-Description: Delivery report")
	line("Content-Transfer-Encoding: 7bit")
	line("")
	line("Reporting-MTA: dns; %s", r.Hostname)
	if !r.Arrival.IsZero() {
		line("Arrival-Date: %s", r.Arrival.Format(time.RFC1123Z))
	}
	for _, f := range r.Failures {
		line("")
		line("Final-Recipient: rfc822; %s", sevenBit(f.Rcpt))
		line("Action: failed")
		line("Status: %s", f.Status)
		if f.RemoteMTA != "" {
			line("Remote-MTA: dns; %s", sevenBit(f.RemoteMTA))
		}
		if f.Diagnostic != "" {
			b.WriteString(fold("Diagnostic-Code: smtp;", sevenBit(f.Diagnostic), " "))
		}
		line("Last-Attempt-Date: %s", date)
	}
	line("")

	// The returned headers (RFC 6522 §3, third part).
	line("--%s", boundary)
	line("Content-Type: text/rfc822-headers")
	line("Content-Description: Undelivered Message Headers")
	if isSevenBitText(r.Headers) {
		line("Content-Transfer-Encoding: 7bit")
		line("")
		b.Write(r.Headers)
	} else {
		// 8-bit or over-long header lines: quoted-printable keeps the
		// report 7-bit (RFC 2045 §6.7).
		line("Content-Transfer-Encoding: quoted-printable")
		line("")
		qp := quotedprintable.NewWriter(&b)
		qp.Write(r.Headers)
		qp.Close()
	}
	// The CRLF before a boundary belongs to the boundary (RFC 2046
	// §5.1.1); this one keeps the last header line's own CRLF.
	line("")
	line("--%s--", boundary)
	return b.Bytes()
}

// headerSection returns the header section of a message (RFC 5322 §2.1:
// everything before the first empty line), ending in CRLF.
func headerSection(msg []byte) []byte {
	for i := 0; i < len(msg); {
		end := bytes.IndexByte(msg[i:], '\n')
		if end < 0 {
			break
		}
		lineLen := end
		if lineLen > 0 && msg[i+lineLen-1] == '\r' {
			lineLen--
		}
		if lineLen == 0 {
			return msg[:i]
		}
		i += end + 1
	}
	// No body: the whole message is headers.
	if len(msg) > 0 && !bytes.HasSuffix(msg, []byte("\r\n")) {
		return append(bytes.Clone(msg), '\r', '\n')
	}
	return msg
}

// isSevenBitText reports whether text can go as Content-Transfer-Encoding
// 7bit (RFC 2045 §2.7): US-ASCII without NUL, CR and LF only as CRLF, lines
// at most 998 octets.
func isSevenBitText(text []byte) bool {
	lineLen := 0
	for i, c := range text {
		switch {
		case c == 0 || c >= 0x80:
			return false
		case c == '\r':
			if i+1 >= len(text) || text[i+1] != '\n' {
				return false
			}
		case c == '\n':
			if i == 0 || text[i-1] != '\r' {
				return false
			}
			lineLen = 0
			continue
		}
		lineLen++
		if lineLen > 998 {
			return false
		}
	}
	return true
}

// sevenBit makes text from elsewhere (a remote reply, an address) safe for
// a 7-bit header line: control characters and non-ASCII octets become "?".
func sevenBit(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f {
			return '?'
		}
		return r
	}, s)
}

// maxWord bounds a word of outside text, so that no line of the report
// exceeds the 998 octets of RFC 5322 §2.1.1.
const maxWord = 900

// fold renders prefix and the words of text as CRLF-terminated lines,
// breaking at spaces before 78 characters where possible (RFC 5322
// §2.2.3) and starting each further line with indent, which for a header
// field must be white space.
func fold(prefix, text, indent string) string {
	var b strings.Builder
	b.WriteString(prefix)
	lineLen := len(prefix)
	for _, word := range strings.Fields(text) {
		if len(word) > maxWord {
			word = word[:maxWord]
		}
		if lineLen > len(indent) && lineLen+1+len(word) > 78 {
			b.WriteString("\r\n")
			b.WriteString(indent)
			lineLen = len(indent)
		} else {
			b.WriteByte(' ')
			lineLen++
		}
		b.WriteString(word)
		lineLen += len(word)
	}
	b.WriteString("\r\n")
	return b.String()
}

func randomHex(n int) string {
	buf := make([]byte, n)
	rand.Read(buf)
	return hex.EncodeToString(buf)
}
