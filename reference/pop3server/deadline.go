package pop3server

import (
	"errors"
	"os"
	"syscall"
	"time"
)

var syscallEMFILE = syscall.EMFILE

// deadlineReader is what the session's bufio.Reader reads from. Before each
// read from the network it flushes the replies still buffered — so replies
// to pipelined commands (RFC 2449 §6.6) go out together, in order, and
// never wait behind a blocking read — and sets the autologout deadline
// (RFC 1939 §3).
type deadlineReader struct{ sess *session }

func (d *deadlineReader) Read(p []byte) (int, error) {
	s := d.sess
	if s.w.Buffered() > 0 {
		if err := s.w.Flush(); err != nil {
			return 0, err
		}
	}
	s.deadlineMu.Lock()
	if s.interrupted {
		s.deadlineMu.Unlock()
		return 0, errInterrupted
	}
	s.conn.SetReadDeadline(time.Now().Add(s.srv.opts.IdleTimeout))
	s.deadlineMu.Unlock()
	n, err := s.conn.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		s.deadlineMu.Lock()
		if s.interrupted {
			err = errInterrupted
		}
		s.deadlineMu.Unlock()
	}
	return n, err
}

// deadlineWriter bounds each write to the network, so a client that stops
// reading cannot hold a session (and its maildrop lock) forever.
type deadlineWriter struct{ sess *session }

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.sess.conn.SetWriteDeadline(time.Now().Add(d.sess.srv.opts.IdleTimeout))
	return d.sess.conn.Write(p)
}

var errInterrupted = errors.New("session interrupted by shutdown")

// interrupt makes the session's next or current read return
// errInterrupted. A command being executed (a RETR being sent, the UPDATE
// state after QUIT) finishes first: the session only notices at its next
// read. It uses the accepted connection, which a TLS connection reads
// through, so it needs no access to the session's current conn.
func (s *session) interrupt() {
	s.deadlineMu.Lock()
	defer s.deadlineMu.Unlock()
	s.interrupted = true
	s.raw.SetReadDeadline(time.Now())
}
