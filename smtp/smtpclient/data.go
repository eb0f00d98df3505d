package smtpclient

import (
	"bufio"
	"time"

	"github.com/mailcheck/mailcheck/internal/smtpwire"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// Data says DATA and wants 354 (RFC 5321 §4.1.1.4); Message follows.
func (c *Client) Data() (*smtpreply.Reply, error) {
	return c.timedExpect(PhaseData, "DATA", 354)
}

// Message sends the message content (the chunks, in order, with CRLF line
// ends) dot-stuffed, then ".\r\n" (RFC 5321 §4.5.2: "Before sending a
// line of mail text, the SMTP client checks the first character of the
// line. If it is a period, one additional period is inserted"; content
// not ending in CRLF gets one first, §4.1.1.4), and wants 250 for it. The
// server sees the content byte for byte. Each write is bounded on its own,
// so a large message on a slow link is bounded per write, not as a whole.
func (c *Client) Message(chunks ...[]byte) (*smtpreply.Reply, error) {
	start := time.Now()
	bw := bufio.NewWriterSize(dataSink{c}, 32<<10)
	dw := smtpwire.NewDotWriter(bw)
	for _, chunk := range chunks {
		if _, err := dw.Write(chunk); err != nil {
			return nil, err
		}
	}
	if dw.NeedsCRLF() {
		bw.WriteString("\r\n")
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	c.record(SentDataEnd, endOfData)
	if err := c.write(endOfData); err != nil {
		return nil, err
	}
	r, err := c.ReadReply()
	return c.settle(PhaseDataEnd, start, r, err, 250)
}

var endOfData = []byte(".\r\n")

// dataSink writes dot-stuffed content to the link, reported as SentData.
type dataSink struct{ c *Client }

func (d dataSink) Write(p []byte) (int, error) {
	d.c.record(SentData, p)
	if err := d.c.write(p); err != nil {
		return 0, err
	}
	return len(p), nil
}
