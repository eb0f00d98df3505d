package imapfetch

import (
	"net"
	"sync"
	"time"

	"github.com/mailcheck/mailcheck/agent/transcript"
	"github.com/mailcheck/mailcheck/bounds"
	"github.com/mailcheck/mailcheck/imap/imapwire"
)

// recordingConn is the connection handed to go-imap's client: it records
// both directions in the transcript (the client reads and writes from
// different goroutines, and gives no other hook that tells them apart),
// bounds every read and write by the session's timeout on top of the
// client's own deadlines, and holds what the server sends to the
// session's read policy (an imapwire.Guard): go-imap allocates nothing
// from a literal's announcement, but reads a literal, a line or a flood
// whole.
type recordingConn struct {
	net.Conn
	timeout time.Duration
	in, out *streamSplitter
	guard   *imapwire.Guard

	mu sync.Mutex
	// replay is read first and not recorded: the greeting, already
	// recorded when it was read, or a stand-in after STARTTLS.
	replay []byte
	// readDeadline and writeDeadline are the client's own deadlines.
	readDeadline, writeDeadline time.Time
}

func newRecordingConn(nc net.Conn, replay []byte, tr *transcript.Transcript, timeout time.Duration, p bounds.Policy) *recordingConn {
	return &recordingConn{
		Conn:    nc,
		timeout: timeout,
		guard:   imapwire.NewGuard(p),
		replay:  replay,
		in:      &streamSplitter{dir: transcript.Server, tr: tr},
		out:     &streamSplitter{dir: transcript.Client, tr: tr},
	}
}

// deadline is the earlier of the client's deadline and the timeout from
// now.
func (c *recordingConn) deadline(client time.Time) time.Time {
	d := time.Now().Add(c.timeout)
	if !client.IsZero() && client.Before(d) {
		return client
	}
	return d
}

func (c *recordingConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	if len(c.replay) > 0 {
		n := copy(b, c.replay)
		c.replay = c.replay[n:]
		c.mu.Unlock()
		return n, nil
	}
	d := c.deadline(c.readDeadline)
	c.mu.Unlock()
	c.Conn.SetReadDeadline(d)
	n, err := c.Conn.Read(b)
	c.in.feed(b[:n])
	if gerr := c.guard.Check(b[:n]); gerr != nil {
		// The connection is out of step from here: go-imap gets the
		// refusal instead of the octets, and every read after it.
		return 0, gerr
	}
	return n, err
}

func (c *recordingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	d := c.deadline(c.writeDeadline)
	c.mu.Unlock()
	c.Conn.SetWriteDeadline(d)
	n, err := c.Conn.Write(b)
	c.out.feed(b[:n])
	return n, err
}

func (c *recordingConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDeadline, c.writeDeadline = t, t
	return nil
}

func (c *recordingConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDeadline = t
	return nil
}

func (c *recordingConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeDeadline = t
	return nil
}

func (c *recordingConn) Close() error {
	c.in.flush()
	c.out.flush()
	return c.Conn.Close()
}

// streamSplitter cuts one direction of the IMAP stream into the
// transcript's lines: protocol lines as lines, literals as message data.
type streamSplitter struct {
	dir transcript.Dir
	tr  *transcript.Transcript

	mu      sync.Mutex
	line    []byte
	literal int64 // octets of literal still to come
}

func (s *streamSplitter) feed(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(b) > 0 {
		if s.literal > 0 {
			// Literal data goes out line by line (a verbose transcript
			// shows it), ending where the literal ends.
			n := int(min(s.literal, int64(len(b))))
			chunk := b[:n]
			if i := indexLF(chunk); i >= 0 {
				chunk = chunk[:i+1]
			}
			s.line = append(s.line, chunk...)
			s.literal -= int64(len(chunk))
			b = b[len(chunk):]
			if s.line[len(s.line)-1] == '\n' || s.literal == 0 {
				s.tr.Data(s.dir, s.line)
				s.line = s.line[:0]
			}
			if s.literal == 0 {
				s.tr.EndData(s.dir, "literal data")
			}
			continue
		}
		i := indexLF(b)
		if i < 0 {
			s.line = append(s.line, b...)
			if len(s.line) > bounds.Default.Line {
				s.tr.Line(s.dir, s.line)
				s.line = s.line[:0]
			}
			return
		}
		s.line = append(s.line, b[:i+1]...)
		b = b[i+1:]
		s.tr.Line(s.dir, s.line)
		// A line announcing a literal (RFC 9051 §9): the next that many
		// octets are data, not lines. A text that happens to end in
		// "{n}" would be taken for one; that only changes how the
		// transcript shows the octets, never what the client reads.
		if lit, ok := imapwire.LiteralAt(s.line); ok {
			s.literal = lit.Size
		}
		s.line = s.line[:0]
	}
}

// flush records a partial line left when the connection closes.
func (s *streamSplitter) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.line) > 0 {
		s.tr.Line(s.dir, s.line)
		s.line = nil
	}
}

func indexLF(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
	}
	return -1
}
