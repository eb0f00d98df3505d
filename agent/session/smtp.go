package session

import (
	"bufio"
	"time"

	"github.com/mailcheck/mailcheck/agent/transcript"
	"github.com/mailcheck/mailcheck/smtp/smtpclient"
)

// SMTP returns the SMTP client core over this connection: its reads and
// writes bounded by the session's timeout and ended by its context, every
// command and reply line in the transcript (secrets masked), message data
// summarised. o.Transcript is replaced.
func (c *Conn) SMTP(o smtpclient.Options) *smtpclient.Client {
	o.Transcript = c.recordSMTP
	return smtpclient.NewOver(smtpLink{c}, o)
}

// recordSMTP writes what the SMTP client sends and reads into the
// transcript.
func (c *Conn) recordSMTP(e smtpclient.Event, b []byte) {
	tr := c.opts.Transcript
	switch e {
	case smtpclient.Sent:
		tr.Line(transcript.Client, b)
	case smtpclient.SentData:
		tr.Data(transcript.Client, b)
	case smtpclient.SentDataEnd:
		tr.EndData(transcript.Client, "message data")
		tr.Line(transcript.Client, b)
	case smtpclient.Received:
		tr.Line(transcript.Server, b)
	}
}

// smtpLink is a Conn as the SMTP client's Link.
type smtpLink struct{ c *Conn }

func (l smtpLink) Write(b []byte) error { return l.c.write(b) }

func (l smtpLink) ReadWith(read func(r *bufio.Reader) error) error {
	l.c.nc.SetReadDeadline(time.Now().Add(l.c.opts.Timeout))
	return l.c.wireError(read(l.c.r))
}

func (l smtpLink) StartTLS() error { return l.c.StartTLS() }
func (l smtpLink) TLS() bool       { return l.c.TLS() }
func (l smtpLink) Close() error    { return l.c.Close() }
