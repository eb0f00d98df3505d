package load

import (
	"bufio"
	"context"
	"errors"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/mailcheck/mailcheck/bounds"
	"github.com/mailcheck/mailcheck/smtp/smtpclient"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// conn is one SMTP connection of a load session, set up by the SMTP
// client core and then run here directly: raw writes (writev), replies read
// with the core's allocation-free scanner.
type conn struct {
	nc         net.Conn
	scan       *smtpclient.ReplyScanner
	out        net.Buffers // the pending write, reused
	wv         net.Buffers // what WriteTo consumes
	pipelining bool
	sizeParam  bool // the server announced SIZE (RFC 1870): MAIL says it
	timeout    time.Duration
	deadline   time.Time // of the connection, for reads and writes
}

// readBufferSize holds any reply line (RFC 5321 §4.5.3.1.5: 512 octets)
// with room to spare, and keeps 10,000 sessions small.
const readBufferSize = 4 << 10

// limits bound what a session reads: a line in the small read buffer, no
// bound on a connection's total (a session may run for hours; each reply
// is bounded on its own).
var limits = bounds.Policy{Line: readBufferSize, Total: math.MaxInt64}

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

// check reads a reply and returns nil when its code is want, else the
// reply (as an error) or the read error. A one-line reply with the wanted
// code costs no allocation.
func (c *conn) check(want int) error {
	c.arm()
	return c.scan.Expect(want)
}

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

// dial opens a connection and brings it to the ready state with the SMTP
// client core (greeting, EHLO, STARTTLS and EHLO again, AUTH PLAIN), timing
// each phase, then takes the connection over.
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
	cl := smtpclient.New(newRawConn(nc), smtpclient.Options{
		Timeout: o.Timeout, TLSConfig: o.TLS, Host: o.Target.Host(), Limits: limits,
		Timing: s.timed,
	})
	caps, p, err := s.setUp(cl)
	if err != nil {
		cl.Close()
		return nil, s.phaseError(p, err)
	}
	c := &conn{timeout: o.Timeout}
	var r *bufio.Reader
	c.nc, r = cl.Detach()
	if r.Buffered() == 0 {
		// The core's reader counts every read against a connection total,
		// which a load session does not bound: with nothing buffered, read
		// the connection straight (in lock-step, 4 reads a message, the
		// indirection cost about 3% of the single-session rate in
		// BenchmarkLoadNotPipelined).
		r = bufio.NewReaderSize(c.nc, readBufferSize)
	}
	c.scan = smtpclient.NewReplyScanner(r, limits)
	c.pipelining = o.Pipelining == PipeliningOn || o.Pipelining == PipeliningAuto && caps.Pipelining()
	c.sizeParam = caps.Has("SIZE")
	return c, nil
}

// setUp runs the start of a session and returns the capabilities, or the
// phase that failed.
func (s *session) setUp(cl *smtpclient.Client) (*smtpclient.Caps, Phase, error) {
	o := &s.run.opts
	if o.Target.ImplicitTLS {
		if err := cl.Handshake(); err != nil {
			return nil, PhaseSTARTTLS, err
		}
	}
	if _, err := cl.Greeting(); err != nil {
		return nil, PhaseGreeting, err
	}
	caps, _, err := cl.Hello(o.ClientName)
	if err != nil {
		return nil, PhaseEHLO, err
	}
	if !o.Target.ImplicitTLS && (o.StartTLS == "on" || o.StartTLS == "auto" && caps.StartTLS()) {
		if _, err := cl.StartTLS(); err != nil {
			return nil, PhaseSTARTTLS, err
		}
		if caps, _, err = cl.Hello(o.ClientName); err != nil {
			return nil, PhaseEHLO, err
		}
	}
	if o.User != "" {
		if _, err := cl.Auth(sasl.NewPlainClient("", o.User, o.Password)); err != nil {
			return nil, PhaseAuth, err
		}
	}
	return caps, "", nil
}

// setUpPhases are the load phases of the client core's timed phases.
var setUpPhases = map[smtpclient.Phase]Phase{
	smtpclient.PhaseGreeting: PhaseGreeting,
	smtpclient.PhaseEHLO:     PhaseEHLO,
	smtpclient.PhaseSTARTTLS: PhaseSTARTTLS,
	smtpclient.PhaseAuth:     PhaseAuth,
}

// timed records a set-up phase the client core timed.
func (s *session) timed(p smtpclient.Phase, d time.Duration) {
	if lp, ok := setUpPhases[p]; ok {
		s.shard.record(lp, d)
	}
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
