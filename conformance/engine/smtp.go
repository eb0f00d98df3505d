package engine

import (
	"bufio"

	"github.com/mailcheck/mailcheck/smtp/smtpclient"
)

// SMTP returns the SMTP client core over this connection (the same one on
// every call): its reads wait the phase's read timeout and explain their
// failures as the connection's own reads do, and everything it sends and
// reads goes into the check's transcript.
func (c *Conn) SMTP() *smtpclient.Client {
	if c.smtp == nil {
		// The default limits bound a reply as smtpreply.ReadReply does;
		// the reader bounds a line (readBufferSize), and
		// Options.MaxReceive the connection.
		c.smtp = c.NewSMTP(smtpclient.Options{})
	}
	return c.smtp
}

// NewSMTP returns a new SMTP client over this connection with options o
// (a suite's own reply reader, say); what it sends goes into the check's
// transcript, as do the replies its own reader reads.
func (c *Conn) NewSMTP(o smtpclient.Options) *smtpclient.Client {
	o.Transcript = c.recordSMTP
	return smtpclient.NewOver(smtpLink{c}, o)
}

func (c *Conn) recordSMTP(e smtpclient.Event, b []byte) {
	if e == smtpclient.Received {
		c.t.record.add(DirServer, b)
		return
	}
	c.t.record.add(DirClient, b)
}

// smtpLink is a Conn as the SMTP client's Link.
type smtpLink struct{ c *Conn }

func (l smtpLink) Write(b []byte) error                            { return l.c.send(b) }
func (l smtpLink) ReadWith(read func(r *bufio.Reader) error) error { return l.c.readWith(read) }
func (l smtpLink) StartTLS() error                                 { return l.c.StartTLS() }
func (l smtpLink) TLS() bool                                       { return l.c.TLS() }
func (l smtpLink) Close() error                                    { return l.c.Close() }
