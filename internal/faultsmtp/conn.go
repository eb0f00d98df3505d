package faultsmtp

import (
	"bufio"
	"net"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/reference/smtpserver"
)

// Timeouts of the proxy's waits: a client's next command may be as late as
// the server would wait for it; a reply comes at once from the reference
// server, on loopback.
const (
	commandTimeout = smtpserver.DefaultIdleTimeout
	replyTimeout   = time.Minute
)

// maxMessage bounds a message the proxy holds before passing it on: twice
// the server's default limit, so the server, not the proxy, refuses what
// is too big.
const maxMessage = 2 * smtpserver.DefaultMaxMessageBytes

// stage is where the server's session is, as its replies showed
// (RFC 5321 §4.1.4's sequence).
type stage int

const (
	greeted   stage = iota // no EHLO or HELO accepted yet
	ready                  // EHLO or HELO accepted, no transaction
	mailGiven              // MAIL accepted
	rcptGiven              // at least one RCPT accepted
)

// conn is one proxied connection. The proxy runs in lock-step: it reads
// one command from the client, passes it on (or answers it itself), reads
// the server's whole reply and passes that back, and only then reads the
// next command; what the client pipelines waits in cr. So every reply is
// known to answer the command before it, and the proxy always knows the
// server's state.
type conn struct {
	f        *Fault
	tls      *tlsPair
	upstream string

	client, server net.Conn
	cr, sr         *bufio.Reader

	// The server's session, from its replies.
	state    stage
	esmtp    bool     // the last accepted hello was EHLO
	secure   bool     // STARTTLS done
	authed   bool     // AUTH succeeded
	ehloLine string   // the last EHLO command accepted
	ehlo     []string // the lines of its reply
	host     string   // the server's name, from its greeting
	mailLine string   // the transaction's MAIL command
	rcpts    []string // and its accepted RCPT commands

	lastCode int // the code of the last reply the client got
}

// relay carries one client connection to the server at upstream until
// either side ends it.
func relay(f *Fault, client net.Conn, upstream string, tls *tlsPair) {
	c := &conn{f: f, tls: tls, upstream: upstream, client: client, cr: bufio.NewReaderSize(client, 64<<10)}
	if err := c.dial(); err != nil {
		return
	}
	defer func() { c.server.Close() }()
	greeting, err := c.readReply()
	if err != nil {
		return
	}
	if f := strings.Fields(greeting.text(0)); len(f) > 0 {
		c.host = f[0]
	}
	hello := &command{kind: kindGreeting}
	c.send(hello, greeting)
	if closes(hello, greeting) {
		return
	}
	for {
		cmd, err := c.readCommand()
		if err != nil {
			return
		}
		if quit, err := c.handle(cmd); quit || err != nil {
			return
		}
		if c.f.dropInput != nil && c.f.dropInput(c) {
			c.cr.Discard(c.cr.Buffered())
		}
	}
}

// dial opens the connection to the server.
func (c *conn) dial() error {
	s, err := net.DialTimeout("tcp", c.upstream, replyTimeout)
	if err != nil {
		return err
	}
	c.server, c.sr = s, bufio.NewReader(s)
	return nil
}

// readCommand reads the client's next line, LF included.
func (c *conn) readCommand() (*command, error) {
	c.client.SetReadDeadline(time.Now().Add(commandTimeout))
	line, err := c.cr.ReadString('\n')
	if line == "" {
		return nil, err
	}
	return parseCommand(line), nil
}

// handle runs one command: the fault's way, or passed on.
func (c *conn) handle(cmd *command) (quit bool, err error) {
	if c.f.command != nil && c.f.command(c, cmd) {
		return cmd.quit, cmd.err
	}
	return c.forward(cmd)
}

// forward passes cmd on and its reply back, following the conversation
// into DATA, an AUTH exchange or STARTTLS.
func (c *conn) forward(cmd *command) (quit bool, err error) {
	r, err := c.roundTrip(cmd)
	if err != nil {
		return true, err
	}
	switch {
	case cmd.verb == "DATA" && r.code == 354:
		return c.relayData(cmd, r)
	case cmd.verb == "AUTH" && r.code == 334:
		return c.relayAuth(cmd, r)
	case cmd.verb == "STARTTLS" && r.code == 220 && c.tls != nil:
		return false, c.relayStartTLS(cmd, r)
	}
	c.send(cmd, r)
	return closes(cmd, r), nil
}

// closes reports whether the server closes the connection after r, its
// reply to cmd: after 221 to QUIT (RFC 5321 §4.1.1.10), and after 421,
// "closing transmission channel" (§4.2.3).
func closes(cmd *command, r *reply) bool {
	return r.code == 421 || cmd.verb == "QUIT" && r.code == 221
}

// roundTrip sends cmd to the server and reads its reply, noting what the
// reply did to the server's session.
func (c *conn) roundTrip(cmd *command) (*reply, error) {
	if _, err := c.server.Write([]byte(cmd.line)); err != nil {
		return nil, err
	}
	r, err := c.readReply()
	if err != nil {
		return nil, err
	}
	c.observe(cmd, r)
	return r, nil
}

// hidden sends a command the client never sees, nor its reply.
func (c *conn) hidden(line string) (*reply, error) {
	return c.roundTrip(parseCommand(line + "\r\n"))
}

// observe follows the server's session (RFC 5321 §4.1.4, RFC 3207 §4.2,
// RFC 4954 §4) through the reply r to cmd.
func (c *conn) observe(cmd *command, r *reply) {
	switch {
	case cmd.kind == kindDataEnd:
		c.endTransaction()
	case cmd.kind == kindSASL || cmd.kind == kindCommand && cmd.verb == "AUTH":
		c.authed = c.authed || r.code == 235
	case r.code/100 != 2:
	case cmd.verb == "EHLO" || cmd.verb == "HELO":
		c.endTransaction()
		c.state, c.esmtp = ready, cmd.verb == "EHLO"
		if c.esmtp {
			c.ehloLine, c.ehlo = cmd.line, r.lines
		}
	case cmd.verb == "MAIL":
		c.state, c.mailLine = mailGiven, cmd.line
	case cmd.verb == "RCPT":
		c.state, c.rcpts = rcptGiven, append(c.rcpts, cmd.line)
	case cmd.verb == "RSET":
		c.endTransaction()
	}
}

// endTransaction notes a transaction ended (reset, or answered after DATA).
func (c *conn) endTransaction() {
	c.mailLine, c.rcpts = "", nil
	if c.state > ready {
		c.state = ready
	}
}

// readReply reads one whole reply from the server.
func (c *conn) readReply() (*reply, error) {
	c.server.SetReadDeadline(time.Now().Add(replyTimeout))
	return readReply(c.sr)
}

// send passes r, the reply to cmd, to the client, altered by the fault.
func (c *conn) send(cmd *command, r *reply) {
	if c.f.reply != nil {
		c.f.reply(c, cmd, r)
	}
	octets := r.wire()
	if c.f.wire != nil {
		octets = c.f.wire(cmd, r, octets)
	}
	c.lastCode = r.code
	c.client.Write(octets)
}

// answer replies to cmd in the server's stead.
func (c *conn) answer(cmd *command, code int, text string) {
	c.send(cmd, &reply{code: code, lines: []string{text}})
}

// relayData carries a message: the 354, the octets up to where this
// server ends DATA, and the reply to the end of data.
func (c *conn) relayData(cmd *command, go354 *reply) (quit bool, err error) {
	c.send(cmd, go354)
	msg, err := c.readMessage()
	if err != nil {
		return true, err
	}
	end := &command{kind: kindDataEnd, line: ".\r\n"}
	if _, err := c.server.Write(msg); err != nil {
		return true, err
	}
	r, err := c.readReply()
	if err != nil {
		return true, err
	}
	c.observe(end, r)
	c.send(end, r)
	return closes(end, r), nil
}

// readMessage reads one message from the client, as the fault's server
// would, and returns the octets for the correct server.
func (c *conn) readMessage() ([]byte, error) {
	c.client.SetReadDeadline(time.Now().Add(commandTimeout))
	read := c.f.data
	if read == nil {
		read = func(c *conn) ([]byte, error) { return readToEnd(c.cr, "") }
	}
	msg, err := read(c)
	if err != nil || c.f.content == nil {
		return msg, err
	}
	return withContent(msg, c.f.content), nil
}

// relayAuth carries an AUTH exchange (RFC 4954 §4): each 334 challenge
// out, each response line in, until the final reply.
func (c *conn) relayAuth(cmd *command, r *reply) (quit bool, err error) {
	for r.code == 334 {
		c.send(cmd, r)
		c.client.SetReadDeadline(time.Now().Add(commandTimeout))
		line, err := c.cr.ReadString('\n')
		if err != nil {
			return true, err
		}
		cmd = &command{kind: kindSASL, line: line, arg: strings.TrimRight(line, "\r\n")}
		if r, err = c.roundTrip(cmd); err != nil {
			return true, err
		}
	}
	c.send(cmd, r)
	return closes(cmd, r), nil
}

// reopen replaces the connection to the server with a new one, brought
// to where the old one was (greeted, EHLO, STARTTLS and EHLO again):
// a session the server has not seen AUTH in.
func (c *conn) reopen() error {
	c.server.Close()
	if err := c.dial(); err != nil {
		return err
	}
	if _, err := c.readReply(); err != nil {
		return err
	}
	ehlo, secure := c.ehloLine, c.secure
	c.state, c.esmtp, c.authed, c.secure = greeted, false, false, false
	if secure {
		if _, err := c.hidden(strings.TrimRight(ehlo, "\r\n")); err != nil {
			return err
		}
		if _, err := c.hidden("STARTTLS"); err != nil {
			return err
		}
		s := tlsClient(c.server, c.tls)
		if err := s.Handshake(); err != nil {
			return err
		}
		c.server, c.sr, c.secure = s, bufio.NewReader(s), true
	}
	_, err := c.hidden(strings.TrimRight(ehlo, "\r\n"))
	return err
}
