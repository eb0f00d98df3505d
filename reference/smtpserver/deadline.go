package smtpserver

import (
	"errors"
	"os"
	"syscall"
	"time"
)

var syscallEMFILE = syscall.EMFILE

// deadlineReader is what the session's bufio.Reader reads from. Before each
// read from the network it flushes the replies still buffered — so replies
// to pipelined commands (RFC 2920) go out together, in order, and never wait
// behind a blocking read — and sets the idle deadline (RFC 5321 §4.5.3.2).
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
// reading cannot hold a session forever.
type deadlineWriter struct{ sess *session }

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.sess.conn.SetWriteDeadline(time.Now().Add(d.sess.srv.opts.IdleTimeout))
	return d.sess.conn.Write(p)
}

var errInterrupted = errors.New("session interrupted by shutdown")

// interruptIfIdle ends a session that is between transactions: its blocked
// read returns errInterrupted and the session answers 421. A session inside a
// transaction is left alone; it checks for shutdown when the transaction ends.
func (s *session) interruptIfIdle() {
	s.deadlineMu.Lock()
	defer s.deadlineMu.Unlock()
	if s.inTransaction {
		return
	}
	s.interrupted = true
	s.conn.SetReadDeadline(time.Now())
}

// setInTransaction records whether a transaction is open (MAIL accepted,
// DATA not yet answered), which decides how shutdown treats the session.
func (s *session) setInTransaction(open bool) {
	s.deadlineMu.Lock()
	s.inTransaction = open
	s.deadlineMu.Unlock()
}

func (s *session) transactionOpen() bool {
	s.deadlineMu.Lock()
	defer s.deadlineMu.Unlock()
	return s.inTransaction
}
