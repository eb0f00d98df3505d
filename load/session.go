package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// conn is one SMTP connection of a load session.
type conn struct {
	nc         net.Conn
	r          *bufio.Reader
	out        net.Buffers // the pending write, reused
	wv         net.Buffers // what WriteTo consumes
	raw        []byte      // a reply off the fast path, reused
	pipelining bool
	sizeParam  bool // the server announced SIZE (RFC 1870): MAIL says it
	timeout    time.Duration
	deadline   time.Time // of the connection, for reads and writes
}

// readBufferSize holds any reply line (RFC 5321 §4.5.3.1.5: 512 octets)
// with room to spare, and keeps 10,000 sessions small.
const readBufferSize = 4 << 10

// arm keeps the deadline between 15/16 of the timeout and the timeout
// away: each wait is bounded by the timeout, and the deadline (a runtime
// timer) is not moved for every read and write.
func (c *conn) arm() {
	now := time.Now()
	if c.deadline.Sub(now) < c.timeout-c.timeout/16 {
		c.deadline = now.Add(c.timeout)
		c.nc.SetDeadline(c.deadline)
	}
}

// reply reads one reply within the timeout.
func (c *conn) reply() (*smtpreply.Reply, error) {
	c.arm()
	return smtpreply.ReadReply(c.r, true, nil)
}

// check reads a reply and returns nil when its code is want, else the
// reply (as an error) or the read error. A one-line reply with the wanted
// code costs no allocation.
func (c *conn) check(want int) error {
	c.arm()
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("%w: line longer than %d octets", smtpreply.ErrMalformedReply, c.r.Size())
		}
		return err
	}
	if len(line) >= 5 && line[3] == ' ' && int(line[0]-'0')*100+int(line[1]-'0')*10+int(line[2]-'0') == want &&
		isDigit(line[0]) && isDigit(line[1]) && isDigit(line[2]) {
		return nil
	}
	// Off the fast path: gather the whole reply and parse it. The bounds
	// are ReadReply's, so a reply cut short here is one it refuses.
	raw := append(c.raw[:0], line...)
	for n := 1; len(line) > 3 && line[3] == '-' && n <= smtpreply.MaxReplyLines && len(raw) <= smtpreply.MaxReplyOctets; n++ {
		if line, err = c.r.ReadSlice('\n'); err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return fmt.Errorf("%w: line longer than %d octets", smtpreply.ErrMalformedReply, c.r.Size())
			}
			return err
		}
		raw = append(raw, line...)
	}
	c.raw = raw
	r, err := smtpreply.ReadReply(bufio.NewReaderSize(bytes.NewReader(raw), len(raw)+16), true, nil)
	switch {
	case err != nil:
		return err
	case r.Code != want:
		return r
	}
	return nil
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func (c *conn) write(b []byte) error {
	c.arm()
	_, err := c.nc.Write(b)
	return err
}

// vectorWriter writes several buffers in one system call (rawConn).
type vectorWriter interface{ writeBuffers([][]byte) error }

// flush writes c.out in one system call (writev).
func (c *conn) flush() error {
	c.arm()
	if vw, ok := c.nc.(vectorWriter); ok {
		return vw.writeBuffers(c.out)
	}
	c.wv = c.out
	_, err := c.wv.WriteTo(c.nc)
	return err
}

// expect reads a reply and turns a code other than want into an error.
func (c *conn) expect(want int) (*smtpreply.Reply, error) {
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
	// hdr holds the headers of two messages (the one whose data is going
	// out and the next, pipelined with it); to is a recipient.
	hdr  [2][]byte
	cur  int
	to   []byte
	tail []byte
	lat  []latency // this transaction's latencies, recorded at its end
	// carry is a message whose commands were pipelined on a connection
	// that failed before its data went out: it is sent again.
	carry   txn
	carried bool
}

// dial opens a connection and brings it to the ready state, timing each
// phase.
func (s *session) dial(ctx context.Context) (*conn, error) {
	o := &s.run.opts
	t0 := time.Now()
	d := net.Dialer{Timeout: o.Timeout}
	nc, err := d.DialContext(ctx, "tcp", o.Target.Addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, errRunOver
		}
		return nil, s.phaseError(PhaseConnect, err)
	}
	s.shard.record(PhaseConnect, time.Since(t0))
	nc = newRawConn(nc)
	c := &conn{nc: nc, r: bufio.NewReaderSize(nc, readBufferSize), timeout: o.Timeout}
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
	_, c.sizeParam = ext["SIZE"]
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
	c.arm()
	if err := tc.Handshake(); err != nil {
		return err
	}
	c.nc, c.r, c.deadline = tc, bufio.NewReaderSize(tc, readBufferSize), time.Time{}
	return nil
}

// latency is one measured phase of a transaction.
type latency struct {
	phase Phase
	d     time.Duration
}

// txn is a claimed message: its number, when it was due (open loop; in
// closed loop it is due when it starts), and once its commands are
// written, when that was and its body.
type txn struct {
	seq        int64
	due, start time.Time
	body       body
}

// prepare composes the body of message t.
func (s *session) prepare(t *txn) {
	o := &s.run.opts
	s.cur ^= 1
	s.to = s.run.rcpts.appendNth(s.to[:0], t.seq*int64(o.Rcpts))
	t.body = s.comp.compose(s.hdr[s.cur], t.seq, o.From, s.to)
	s.hdr[s.cur] = t.body.header
}

// appendMail appends t's MAIL command, with its size when the server
// takes it.
func (s *session) appendMail(w []byte, t *txn, size bool) []byte {
	w = append(w, "MAIL FROM:<"...)
	w = append(w, s.run.opts.From...)
	w = append(w, '>')
	if size {
		w = append(w, " SIZE="...)
		w = strconv.AppendInt(w, int64(t.body.size), 10)
	}
	return append(w, "\r\n"...)
}

func (s *session) appendRcpt(w []byte, t *txn, i int) []byte {
	w = append(w, "RCPT TO:<"...)
	w = s.run.rcpts.appendNth(w, t.seq*int64(s.run.opts.Rcpts)+int64(i))
	return append(w, ">\r\n"...)
}

// commands prepares message t and appends its MAIL, RCPT and DATA
// commands for c to w.
func (s *session) commands(w []byte, c *conn, t *txn) []byte {
	s.prepare(t)
	w = s.appendMail(w, t, c.sizeParam)
	for i := range s.run.opts.Rcpts {
		w = s.appendRcpt(w, t, i)
	}
	return append(w, "DATA\r\n"...)
}

// since notes the latency of phase since t.
func (s *session) since(p Phase, t time.Time) {
	s.lat = append(s.lat, latency{p, time.Since(t)})
}

// record records the latencies noted, and those of an accepted transaction
// (when end is set), under one lock.
func (s *session) record(t *txn, end time.Time) {
	sh := s.shard
	sh.mu.Lock()
	for _, l := range s.lat {
		sh.phases[l.phase].RecordValue(min(micros(l.d), histHighest))
	}
	if !end.IsZero() {
		due := t.due
		if due.IsZero() || t.start.Before(due) {
			due = t.start // closed loop, or a ticket issued early
		}
		sh.phases[PhaseTransaction].RecordValue(min(micros(end.Sub(due)), histHighest))
		sh.uncorrected.RecordValue(min(micros(end.Sub(t.start)), histHighest))
		sh.interval.RecordValue(min(micros(end.Sub(due)), histHighest))
	}
	sh.mu.Unlock()
	s.lat = s.lat[:0]
}

// failed counts message t failed, err (in phase p) being why; a nil err
// was counted already (refused recipients).
func (s *session) failed(t *txn, p Phase, err error) {
	if err != nil {
		s.run.m.fail(p, err)
	}
	s.record(t, time.Time{})
	s.run.failOne()
}

// closing reports whether err ends the connection: a network error or a
// 421 reply (RFC 5321 §3.8).
func closing(err error) bool {
	var r *smtpreply.Reply
	return !errors.As(err, &r) || r.Code == 421
}

// transactions runs transactions on c, starting with message t, until one
// fails in a way that ends the connection (it reports false) or no further
// message is to go over c (true). onConn counts the messages sent over c.
// With pipelining, a message's MAIL, RCPT and DATA go out in one write,
// and that write also carries the previous message's data when the next
// message is ready (RFC 2920 §3.1: message content may start a group); if
// the connection then fails, that next message is carried over to the
// next connection (s.carry) rather than counted failed.
func (s *session) transactions(ctx context.Context, c *conn, t txn, onConn *int) bool {
	o := &s.run.opts
	chained := false // t's commands went out with the previous data
	for {
		*onConn++
		var ok, alive bool
		if c.pipelining {
			ok, alive = s.pipelinedCommands(c, &t, chained)
		} else {
			ok, alive = s.commandsOneByOne(c, &t)
		}
		if !alive {
			return false
		}
		chained = false
		if !ok {
			if !s.reset(c) {
				return false
			}
		} else {
			// The data, and with pipelining the next message's commands.
			var next txn
			c.out, s.tail = t.body.appendTo(c.out[:0], s.tail[:0])
			if c.pipelining && (o.MessagesPerSession == 0 || *onConn < o.MessagesPerSession) {
				if next.seq, next.due, chained = s.run.claimReady(ctx); chained {
					s.tail = s.commands(s.tail, c, &next)
				}
			}
			c.out = append(c.out, s.tail)
			w := time.Now()
			next.start = w
			err := c.flush()
			if err == nil {
				err = c.check(250)
			}
			switch {
			case err == nil:
				end := time.Now()
				s.since(PhaseEndOfData, w)
				s.record(&t, end)
				s.run.m.accepted.Add(1)
				s.run.m.bytes.Add(int64(t.body.size))
				s.run.m.done(end)
			case closing(err):
				s.failed(&t, PhaseEndOfData, err)
				if chained {
					// Only its commands went out: it goes again, over the
					// next connection.
					s.carry, s.carried = next, true
				}
				return false
			default:
				s.failed(&t, PhaseEndOfData, err)
			}
			if chained {
				t = next
				continue
			}
		}
		if o.MessagesPerSession > 0 && *onConn >= o.MessagesPerSession {
			return true
		}
		var more bool
		if t.seq, t.due, more = s.run.next(ctx); !more {
			return true
		}
	}
}

// pipelinedCommands writes t's commands (unless they went out with the
// previous message's data) and reads their replies, timing each from the
// write. It reports whether DATA got its 354 (then the data must follow,
// RFC 2920 §3.1) and whether the connection is alive. A failed transaction
// is counted under its first refusal (or its refused recipients), not
// under the refusals that follow from it.
func (s *session) pipelinedCommands(c *conn, t *txn, written bool) (ok, alive bool) {
	o := &s.run.opts
	if !written {
		s.tail = s.commands(s.tail[:0], c, t)
		c.out = append(c.out[:0], s.tail)
		t.start = time.Now()
		if err := c.flush(); err != nil {
			s.failed(t, PhaseMail, err)
			return false, false
		}
	}
	var mailErr, dataErr error
	rcpts := 0
	for i := 0; i < o.Rcpts+2; i++ {
		phase, want := PhaseRcpt, 250
		switch i {
		case 0:
			phase = PhaseMail
		case o.Rcpts + 1:
			phase, want = PhaseData, 354
		}
		err := c.check(want)
		switch {
		case err == nil:
			s.since(phase, t.start)
			switch phase {
			case PhaseRcpt:
				rcpts++
			case PhaseData:
				ok = true
			}
		case closing(err):
			s.failed(t, phase, err)
			return false, false
		case phase == PhaseMail:
			mailErr = err
		case phase == PhaseRcpt && mailErr == nil:
			s.run.m.fail(phase, err) // each refused recipient
		case phase == PhaseData:
			dataErr = err
		}
	}
	switch {
	case ok:
	case mailErr != nil:
		s.failed(t, PhaseMail, mailErr)
	case rcpts == 0:
		s.failed(t, PhaseRcpt, nil) // counted with each recipient
	default:
		s.failed(t, PhaseData, dataErr)
	}
	return ok, true
}

// commandsOneByOne sends t's MAIL, RCPT and DATA commands, each after the
// reply to the one before, and reports like pipelinedCommands.
func (s *session) commandsOneByOne(c *conn, t *txn) (ok, alive bool) {
	o := &s.run.opts
	s.prepare(t)
	// step sends one command and reads its reply: err is the refusal.
	step := func(p Phase, line []byte, want int) (alive bool, refusal error) {
		w := time.Now()
		if err := c.write(line); err != nil {
			s.failed(t, p, err)
			return false, err
		}
		if err := c.check(want); err != nil {
			if closing(err) {
				s.failed(t, p, err)
				return false, err
			}
			return true, err
		}
		s.since(p, w)
		return true, nil
	}
	t.start = time.Now()
	s.tail = s.appendMail(s.tail[:0], t, c.sizeParam)
	if alive, err := step(PhaseMail, s.tail, 250); err != nil {
		if alive {
			s.failed(t, PhaseMail, err)
		}
		return false, alive
	}
	rcpts := 0
	for i := range o.Rcpts {
		s.tail = s.appendRcpt(s.tail[:0], t, i)
		alive, err := step(PhaseRcpt, s.tail, 250)
		switch {
		case !alive:
			return false, false
		case err != nil:
			s.run.m.fail(PhaseRcpt, err) // each refused recipient
		default:
			rcpts++
		}
	}
	if rcpts == 0 {
		s.failed(t, PhaseRcpt, nil)
		return false, true
	}
	if alive, err := step(PhaseData, dataCommand, 354); err != nil {
		if alive {
			s.failed(t, PhaseData, err)
		}
		return false, alive
	}
	return true, true
}

var (
	dataCommand = []byte("DATA\r\n")
	rsetCommand = []byte("RSET\r\n")
	quitCommand = []byte("QUIT\r\n")
)

// reset ends a refused transaction with RSET and reports whether the
// connection is still fine (the message was counted already).
func (s *session) reset(c *conn) bool {
	if c.write(rsetCommand) != nil {
		return false
	}
	return c.check(250) == nil
}

// errRunOver is a connection abandoned because the run ended.
var errRunOver = errors.New("the run is over")

// phaseError counts err in phase and returns it.
func (s *session) phaseError(p Phase, err error) error {
	s.run.m.fail(p, err)
	return err
}
