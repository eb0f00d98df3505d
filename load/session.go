package load

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/internal/smtpwire"
)

// conn is one SMTP connection of a load session.
type conn struct {
	nc         net.Conn
	r          *bufio.Reader
	w          []byte // the pending write, reused
	pipelining bool
	timeout    time.Duration
}

// reply reads one reply within the timeout.
func (c *conn) reply() (*smtpwire.Reply, error) {
	c.nc.SetReadDeadline(time.Now().Add(c.timeout))
	return smtpwire.ReadReply(c.r, true, nil)
}

func (c *conn) write(b []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.nc.Write(b)
	return err
}

// expect reads a reply and turns a code other than want into an error.
func (c *conn) expect(want int) (*smtpwire.Reply, error) {
	r, err := c.reply()
	if err != nil {
		return nil, err
	}
	if r.Code != want {
		return r, r
	}
	return r, nil
}

// session runs one persistent SMTP session after another until the run
// ends: connect, greeting, EHLO (STARTTLS, AUTH) once, then transactions.
type session struct {
	id    int
	run   *run
	shard *shard
	comp  *composer
	buf   []byte
}

// dial opens a connection and brings it to the ready state, timing each
// phase.
func (s *session) dial(ctx context.Context) (*conn, error) {
	o := &s.run.opts
	t0 := time.Now()
	d := net.Dialer{Timeout: o.Timeout}
	nc, err := d.DialContext(ctx, "tcp", o.Target.Addr)
	if err != nil {
		return nil, s.phaseError(PhaseConnect, err)
	}
	s.shard.record(PhaseConnect, time.Since(t0))
	c := &conn{nc: nc, r: bufio.NewReaderSize(nc, 16<<10), timeout: o.Timeout}
	fail := func(p Phase, err error) (*conn, error) {
		nc.Close()
		return nil, s.phaseError(p, err)
	}
	if o.Target.ImplicitTLS {
		if err := c.handshake(o); err != nil {
			return fail(PhaseSTARTTLS, err)
		}
	}
	t := time.Now()
	if _, err := c.expect(220); err != nil {
		return fail(PhaseGreeting, err)
	}
	s.shard.record(PhaseGreeting, time.Since(t))
	ext, err := s.ehlo(c)
	if err != nil {
		return fail(PhaseEHLO, err)
	}
	if _, offered := ext["STARTTLS"]; !o.Target.ImplicitTLS && (o.StartTLS == "on" || o.StartTLS == "auto" && offered) {
		t = time.Now()
		if err := c.write([]byte("STARTTLS\r\n")); err != nil {
			return fail(PhaseSTARTTLS, err)
		}
		if _, err := c.expect(220); err != nil {
			return fail(PhaseSTARTTLS, err)
		}
		if err := c.handshake(o); err != nil {
			return fail(PhaseSTARTTLS, err)
		}
		s.shard.record(PhaseSTARTTLS, time.Since(t))
		if ext, err = s.ehlo(c); err != nil {
			return fail(PhaseEHLO, err)
		}
	}
	if o.User != "" {
		t = time.Now()
		resp := base64.StdEncoding.EncodeToString([]byte("\x00" + o.User + "\x00" + o.Password))
		if err := c.write([]byte("AUTH PLAIN " + resp + "\r\n")); err != nil {
			return fail(PhaseAuth, err)
		}
		if _, err := c.expect(235); err != nil {
			return fail(PhaseAuth, err)
		}
		s.shard.record(PhaseAuth, time.Since(t))
	}
	_, advertised := ext["PIPELINING"]
	c.pipelining = o.Pipelining == PipeliningOn || o.Pipelining == PipeliningAuto && advertised
	return c, nil
}

func (s *session) ehlo(c *conn) (map[string]string, error) {
	t := time.Now()
	if err := c.write([]byte("EHLO " + s.run.opts.ClientName + "\r\n")); err != nil {
		return nil, err
	}
	r, err := c.expect(250)
	if err != nil {
		return nil, err
	}
	s.shard.record(PhaseEHLO, time.Since(t))
	ext := map[string]string{}
	for _, l := range r.Lines[1:] {
		kw, params, _ := strings.Cut(l, " ")
		ext[strings.ToUpper(kw)] = params
	}
	return ext, nil
}

func (c *conn) handshake(o *Options) error {
	cfg := &tls.Config{ServerName: o.Target.Host()}
	if o.TLS != nil {
		cfg = o.TLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = o.Target.Host()
		}
	}
	tc := tls.Client(c.nc, cfg)
	tc.SetDeadline(time.Now().Add(c.timeout))
	if err := tc.Handshake(); err != nil {
		return err
	}
	tc.SetDeadline(time.Time{})
	c.nc, c.r = tc, bufio.NewReaderSize(tc, 16<<10)
	return nil
}

// errTransaction marks a failed transaction whose connection can go on.
var errTransaction = errors.New("transaction refused")

// send runs one transaction. due is when it should have started (open
// loop) or its start (closed loop). A refused transaction returns
// errTransaction (the session goes on, after RSET); a network error ends
// the connection.
func (s *session) send(c *conn, seq int64, due time.Time) error {
	o := &s.run.opts
	rcpts := make([]string, o.Rcpts)
	for i := range rcpts {
		rcpts[i] = s.run.rcpts.nth(seq*int64(o.Rcpts) + int64(i))
	}
	var size int
	s.buf, size = s.comp.message(s.buf[:0], seq, o.From, rcpts)
	start := time.Now()
	if c.pipelining {
		// RFC 2920: MAIL, every RCPT and DATA in one write.
		w := c.w[:0]
		w = append(w, "MAIL FROM:<"+o.From+">"...)
		w = append(w, " SIZE="...)
		w = fmt.Appendf(w, "%d\r\n", size)
		for _, r := range rcpts {
			w = append(w, "RCPT TO:<"+r+">\r\n"...)
		}
		w = append(w, "DATA\r\n"...)
		c.w = w
		if err := c.write(w); err != nil {
			return s.phaseError(PhaseMail, err)
		}
		ok, err := s.readTransactionReplies(c, len(rcpts), start)
		if err != nil {
			return err
		}
		if !ok {
			return s.refused(c)
		}
	} else {
		steps := []struct {
			line  string
			code  int
			phase Phase
		}{{fmt.Sprintf("MAIL FROM:<%s> SIZE=%d\r\n", o.From, size), 250, PhaseMail}}
		for _, r := range rcpts {
			steps = append(steps, struct {
				line  string
				code  int
				phase Phase
			}{"RCPT TO:<" + r + ">\r\n", 250, PhaseRcpt})
		}
		for _, st := range steps {
			t := time.Now()
			if err := c.write([]byte(st.line)); err != nil {
				return s.phaseError(st.phase, err)
			}
			if _, err := c.expect(st.code); err != nil {
				s.phaseError(st.phase, err)
				if isReply(err) {
					return s.refused(c)
				}
				return err
			}
			s.shard.record(st.phase, time.Since(t))
		}
		t := time.Now()
		if err := c.write([]byte("DATA\r\n")); err != nil {
			return s.phaseError(PhaseData, err)
		}
		if _, err := c.expect(354); err != nil {
			s.phaseError(PhaseData, err)
			if isReply(err) {
				return s.refused(c)
			}
			return err
		}
		s.shard.record(PhaseData, time.Since(t))
	}
	t := time.Now()
	if err := c.write(s.buf); err != nil {
		return s.phaseError(PhaseEndOfData, err)
	}
	if _, err := c.expect(250); err != nil {
		s.phaseError(PhaseEndOfData, err)
		if isReply(err) {
			s.run.m.failed.Add(1)
			return errTransaction
		}
		return err
	}
	end := time.Now()
	s.shard.record(PhaseEndOfData, end.Sub(t))
	s.shard.recordTransaction(end.Sub(due), end.Sub(start))
	s.run.m.accepted.Add(1)
	s.run.m.bytes.Add(int64(size))
	return nil
}

// readTransactionReplies reads the replies to a pipelined MAIL, RCPTs and
// DATA, timing each from the write. It reports whether DATA got its 354:
// then the message must follow, even if some recipient was refused
// (RFC 2920 §3.1).
func (s *session) readTransactionReplies(c *conn, rcpts int, written time.Time) (bool, error) {
	ok := false
	for i := 0; i < rcpts+2; i++ {
		phase, want := PhaseRcpt, 250
		switch i {
		case 0:
			phase = PhaseMail
		case rcpts + 1:
			phase, want = PhaseData, 354
		}
		r, err := c.reply()
		if err != nil {
			return false, s.phaseError(phase, err)
		}
		if r.Code != want {
			s.phaseError(phase, r)
			continue
		}
		s.shard.record(phase, time.Since(written))
		ok = phase == PhaseData
	}
	return ok, nil
}

// refused resets a transaction the server refused and counts it failed.
func (s *session) refused(c *conn) error {
	s.run.m.failed.Add(1)
	if err := c.write([]byte("RSET\r\n")); err != nil {
		return err
	}
	if _, err := c.expect(250); err != nil {
		return err
	}
	return errTransaction
}

func isReply(err error) bool {
	var r *smtpwire.Reply
	return errors.As(err, &r)
}

// phaseError counts err in phase and returns it.
func (s *session) phaseError(p Phase, err error) error {
	s.run.m.fail(p, err)
	return err
}
