package smtpserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/internal/lineserver"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// readBufferSize holds the longest line the server reads whole: a SASL
// response of up to 12288 octets (RFC 4954 §4) plus CRLF.
const readBufferSize = 16 << 10

// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with CRLF. SIZE
// (RFC 1870 §3) adds 26 octets to MAIL and AUTH= (RFC 4954 §5) adds 500.
const (
	maxCommandLine = 512
	maxMailLine    = maxCommandLine + 26 + 500
	maxSASLLine    = 12288
)

// state is where a session is in RFC 5321 §4.1.4's command sequence.
type state int

const (
	stateConnected state = iota // greeted by the server, no EHLO/HELO yet
	stateReady                  // EHLO/HELO done, no transaction
	stateMail                   // MAIL accepted
	stateRcpt                   // at least one RCPT accepted
)

type session struct {
	srv  *Server
	conn *lineserver.Conn
	r    *bufio.Reader // conn.Reader()
	w    *bufio.Writer // conn.Writer()
	log  *slog.Logger
	ctx  context.Context

	info  ConnInfo
	state state

	// The transaction (RFC 5321 §3.3).
	from         string
	rcpts        []string
	body8BitMIME bool

	messages int          // transactions completed, for message ids
	data     bytes.Buffer // message being received, reused
	replyTo  []byte       // scratch for formatting replies
}

func newSession(srv *Server, conn *lineserver.Conn) *session {
	s := &session{srv: srv, conn: conn, r: conn.Reader(), w: conn.Writer(), ctx: context.Background()}
	s.info.ID = conn.ID()
	s.info.RemoteAddr = conn.RemoteAddr()
	s.info.TLS = conn.TLS()
	s.log = conn.Log()
	return s
}

// serve runs the session to its end; lineserver closes the connection.
func (s *session) serve() {
	if s.srv.opts.ImplicitTLS {
		if !s.startTLS() {
			return
		}
	}
	s.log.Debug("session start")
	// RFC 5321 §4.2: the greeting's text starts with the server's domain.
	fmt.Fprintf(s.w, "220 %s ESMTP mailcheck reference server ready\r\n", s.srv.opts.Hostname)
	for {
		// False while a transaction is open (cmdMail marks the conn busy),
		// so a shutdown lets the transaction in flight finish first.
		if s.conn.ShuttingDown() {
			s.reply(421, "4.3.2", "%s Service shutting down, closing connection", s.srv.opts.Hostname)
			s.w.Flush()
			return
		}
		line, err := s.conn.ReadLine(maxSASLLine)
		if err != nil {
			if errors.Is(err, lineserver.ErrLineTooLong) {
				s.reply(500, "5.5.2", "Line too long (the limit is %d octets, RFC 5321 section 4.5.3.1.4)", maxCommandLine)
				continue
			}
			s.endOnReadError(err)
			return
		}
		if quit := s.handleLine(line); quit {
			s.w.Flush()
			return
		}
	}
}

// endOnReadError ends a session whose read failed: on timeout (idle, a
// command line or a message not complete in time) with a 421 (RFC 5321
// §4.5.3.2 lets the server close after its timeout), on shutdown
// with a 421, on a closed connection silently.
func (s *session) endOnReadError(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, lineserver.ErrInterrupted):
		s.reply(421, "4.3.2", "%s Service shutting down, closing connection", s.srv.opts.Hostname)
	case errors.As(err, &ne) && ne.Timeout():
		s.reply(421, "4.4.2", "%s Timeout waiting for input, closing connection", s.srv.opts.Hostname)
		s.log.Info("input timeout")
	case errors.Is(err, io.EOF):
		s.log.Debug("client closed the connection")
		return
	default:
		s.log.Debug("read failed", "err", err)
		return
	}
	s.w.Flush()
}

// handleLine parses and runs one command line; it reports whether the
// session is over.
func (s *session) handleLine(line []byte) (quit bool) {
	// RFC 5321 §2.3.8: lines end in CRLF; a bare CR or LF is not a line end.
	if !bytes.HasSuffix(line, []byte("\r\n")) {
		s.reply(500, "5.5.2", "Syntax error: command lines must end with CRLF (RFC 5321 section 2.3.8)")
		return false
	}
	line = line[:len(line)-2]
	if bytes.IndexByte(line, '\r') >= 0 || bytes.IndexByte(line, 0) >= 0 {
		s.reply(500, "5.5.2", "Syntax error: bare CR or NUL in command")
		return false
	}
	verb, args, hasArgs := bytes.Cut(line, []byte(" "))
	cmd := strings.ToUpper(string(verb))
	limit := maxCommandLine
	if cmd == "MAIL" {
		limit = maxMailLine
	}
	if len(line)+2 > limit {
		s.reply(500, "5.5.2", "Line too long (the limit is %d octets, RFC 5321 section 4.5.3.1.4)", limit)
		return false
	}
	if cmd != "MAIL" && cmd != "RCPT" && !isASCII(line) {
		// Commands are ASCII (RFC 5321 §2.4); without SMTPUTF8 nothing
		// else may carry 8-bit octets.
		s.reply(500, "5.5.2", "Syntax error: 8-bit octets in a command")
		return false
	}
	arg := string(args)
	switch cmd {
	case "EHLO":
		s.cmdHello(arg, true)
	case "HELO":
		s.cmdHello(arg, false)
	case "MAIL":
		s.cmdMail(arg)
	case "RCPT":
		s.cmdRcpt(arg)
	case "DATA":
		// The whole message must arrive within DataTimeout, so a client
		// sending it an octet at a time cannot hold the session.
		s.conn.SetInputDeadline(time.Now().Add(s.srv.opts.DataTimeout))
		s.cmdData(hasArgs)
		s.conn.SetInputDeadline(time.Time{})
	case "RSET":
		s.cmdRset(hasArgs)
	case "NOOP":
		// RFC 5321 §4.1.1.9: a NOOP parameter is ignored.
		s.reply(250, "2.0.0", "OK")
	case "QUIT":
		if hasArgs {
			s.reply(501, "5.5.4", "Syntax: QUIT (no arguments)")
			return false
		}
		s.reply(221, "2.0.0", "%s Service closing transmission channel", s.srv.opts.Hostname)
		return true
	case "VRFY":
		s.cmdVrfy(arg)
	case "HELP":
		s.cmdHelp()
	case "STARTTLS":
		return s.cmdStartTLS(hasArgs)
	case "AUTH":
		s.cmdAuth(arg)
	case "EXPN", "TURN", "ETRN", "SEND", "SOML", "SAML", "BDAT", "ATRN":
		// RFC 5321 §4.2.4: known but not implemented.
		s.reply(502, "5.5.1", "%s not implemented", cmd)
	default:
		s.reply(500, "5.5.2", "Syntax error, command unrecognized")
	}
	return false
}

// reply queues one reply line. The enhanced status code goes on every 2xx,
// 4xx and 5xx reply (RFC 2034 §4), except the greeting and the replies to
// EHLO and HELO, which RFC 2034 exempts.
func (s *session) reply(code int, enhanced, format string, args ...any) {
	r := smtpreply.Reply{Code: code, Enhanced: enhanced, Lines: []string{fmt.Sprintf(format, args...)}}
	s.writeReply(&r)
}

func (s *session) writeReply(r *smtpreply.Reply) {
	s.replyTo = r.AppendTo(s.replyTo[:0])
	s.w.Write(s.replyTo)
}

// replyError sends err as a reply: a *smtpreply.Reply as it is, anything else
// as a local error (451, RFC 5321 §4.2.3) after logging it.
func (s *session) replyError(err error, what string) {
	var r *smtpreply.Reply
	if errors.As(err, &r) {
		s.writeReply(r)
		return
	}
	s.log.Error(what+" failed", "err", err)
	s.reply(451, "4.3.0", "Requested action aborted: local error in processing")
}

func (s *session) resetTransaction() {
	s.from = ""
	s.rcpts = s.rcpts[:0]
	s.body8BitMIME = false
	if s.state > stateReady {
		s.state = stateReady
	}
	s.conn.SetBusy(false)
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
