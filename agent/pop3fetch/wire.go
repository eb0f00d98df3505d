package pop3fetch

import (
	"github.com/mailcheck/mailcheck/agent/session"
	"github.com/mailcheck/mailcheck/agent/transcript"
)

// wire is the session's connection as the POP3 client's Wire: protocol
// lines go into the transcript as lines, message data (while data names
// it) as data that a quiet transcript summarises in one line.
type wire struct {
	c    *session.Conn
	data string
}

func (w *wire) ReadLine() ([]byte, error) {
	if w.data == "" {
		return w.c.ReadLine()
	}
	// A line of message data is bounded by the message's bound, which
	// the POP3 client holds the whole message to.
	line, err := w.c.ReadDataLine(int(w.c.Options().Policy().Literal))
	if string(line) == ".\r\n" {
		tr := w.c.Transcript()
		tr.EndData(transcript.Server, w.data)
		tr.Line(transcript.Server, line)
	}
	return line, err
}

func (w *wire) Write(b []byte) error { return w.c.Write(b) }
func (w *wire) StartTLS() error      { return w.c.StartTLS() }
func (w *wire) TLS() bool            { return w.c.TLS() }
