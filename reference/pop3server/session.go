package pop3server

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

	"github.com/mailcheck/mailcheck/internal/lineserver"
)

const (
	// RFC 2449 §4: a server that supports CAPA must accept command lines of
	// up to 255 octets, CRLF included. Longer lines are refused whole.
	maxCommandLine = 255
	// RFC 1939 §3 limits an argument to 40 characters, but RFC 2449 §4
	// lifts the limits "on commands and parameters" to the 255-octet line
	// for servers that support CAPA, as this one does: a longer user name
	// (an e-mail address, say) is valid.
	maxArgument = maxCommandLine
	// readBufferSize holds several pipelined command lines.
	readBufferSize = 4096
	// messageBufferSize is the read buffer for message content.
	messageBufferSize = 32 << 10
)

// state is the session state of RFC 1939 §3.
type state int

const (
	stateAuthorization state = iota
	stateTransaction
	stateUpdate // after QUIT in TRANSACTION; the session ends in it
)

func (st state) String() string {
	switch st {
	case stateAuthorization:
		return "AUTHORIZATION"
	case stateTransaction:
		return "TRANSACTION"
	default:
		return "UPDATE"
	}
}

type session struct {
	srv  *Server
	conn *lineserver.Conn
	r    *bufio.Reader // conn.Reader()
	w    *bufio.Writer // conn.Writer()
	msgR *bufio.Reader // reads message content for RETR and TOP, reused
	log  *slog.Logger
	ctx  context.Context

	state state
	// userArg is the name a successful USER gave in the command being
	// handled; prevUserArg is that of the command before, "" if it was not
	// a successful USER (RFC 1939 §7: PASS must immediately follow USER).
	userArg, prevUserArg string

	// In the TRANSACTION state: the canonical user, whose maildrop lock the
	// session holds, the maildrop, its messages as listed when it was
	// opened, and the deletion marks (RFC 1939 §5).
	user    string
	drop    Maildrop
	msgs    []MessageInfo
	deleted []bool
}

func newSession(srv *Server, conn *lineserver.Conn) *session {
	s := &session{srv: srv, conn: conn, r: conn.Reader(), w: conn.Writer(), ctx: context.Background()}
	s.log = conn.Log()
	return s
}

// serve runs the session to its end; lineserver then closes the
// connection.
func (s *session) serve() {
	ctx, cancel := context.WithCancel(context.Background())
	s.ctx = ctx
	defer func() {
		cancel()
		// Release the maildrop lock before the client can see the
		// connection end, so it can log in again at once.
		s.release()
	}()
	if s.srv.opts.ImplicitTLS && s.conn.StartTLS(s.srv.opts.TLSConfig) != nil {
		return
	}
	s.log.Debug("session start", "tls", s.conn.TLS())
	// RFC 1939 §4: the greeting is a positive response. No APOP timestamp:
	// APOP is not offered.
	s.ok("%s POP3 server ready", s.srv.opts.Hostname)
	for {
		if s.conn.ShuttingDown() {
			s.endOnShutdown()
			return
		}
		line, err := s.conn.ReadLine(maxCommandLine)
		if err != nil {
			if errors.Is(err, lineserver.ErrLineTooLong) {
				s.err("line too long (the limit is %d octets with CRLF, RFC 2449 §4)", maxCommandLine)
				s.userArg = ""
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

// release ends the TRANSACTION state without entering UPDATE: the
// maildrop is closed and its lock released. Messages marked deleted stay.
// It is called on every way out of a session, and by QUIT after its
// deletions; a second call does nothing.
func (s *session) release() {
	if s.drop != nil {
		if err := s.drop.Close(); err != nil {
			s.log.Error("closing maildrop failed", "user", s.user, "err", err)
		}
		s.drop = nil
	}
	if s.user != "" {
		s.srv.locks.unlock(s.user)
		s.user = ""
	}
	s.msgs, s.deleted = nil, nil
}

// endOnShutdown answers a session ended by Shutdown. It never enters the
// UPDATE state: nothing marked is deleted.
func (s *session) endOnShutdown() {
	s.release()
	s.err("[SYS/TEMP] %s POP3 server shutting down", s.srv.opts.Hostname)
	s.w.Flush()
}

// endOnReadError ends a session whose read failed. On the autologout timer
// the connection is closed without a response and without entering UPDATE
// (RFC 1939 §3); on shutdown the client gets -ERR [SYS/TEMP]; a closed
// connection ends the session silently. In no case is anything deleted.
func (s *session) endOnReadError(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, lineserver.ErrInterrupted):
		s.endOnShutdown()
	case errors.As(err, &ne) && ne.Timeout():
		s.log.Info("autologout: idle timeout", "state", s.state)
	case errors.Is(err, io.EOF):
		s.log.Debug("client closed the connection", "state", s.state)
	default:
		s.log.Debug("read failed", "err", err, "state", s.state)
	}
}

// handleLine parses and runs one command line; it reports whether the
// session is over. Whatever is wrong with a command — unknown, in the wrong
// state, bad arguments — it gets -ERR and the session goes on.
func (s *session) handleLine(line []byte) (quit bool) {
	// RFC 1939 §7: PASS is valid only immediately after a successful USER.
	s.prevUserArg, s.userArg = s.userArg, ""
	// RFC 1939 §3: commands are terminated by a CRLF pair.
	if !bytes.HasSuffix(line, []byte("\r\n")) {
		s.err("syntax error: command lines must end with CRLF (RFC 1939 §3)")
		return false
	}
	line = line[:len(line)-2]
	// RFC 1939 §3: keywords and arguments are printable ASCII, separated by
	// single spaces.
	for _, c := range line {
		if c < 0x20 || c > 0x7e {
			s.err("syntax error: commands are printable ASCII (RFC 1939 §3)")
			return false
		}
	}
	verb, rest, hasArgs := strings.Cut(string(line), " ")
	name := strings.ToUpper(verb) // keywords are case-insensitive
	cmd, known := commands[name]
	switch {
	case !known && unsupported[name]:
		s.err("%s not supported", name)
		return false
	case !known:
		s.err("unknown command")
		return false
	case !cmd.validIn(s.state):
		s.err("%s not valid in the %s state", name, s.state)
		return false
	}
	var args []string
	if hasArgs {
		if cmd.wholeArg {
			args = []string{rest}
		} else {
			args = strings.Split(rest, " ")
		}
		for _, a := range args {
			if a == "" {
				s.err("syntax error: arguments are separated by single spaces; syntax: %s", cmd.syntax)
				return false
			}
			if !cmd.wholeArg && len(a) > maxArgument {
				s.err("syntax error: argument longer than %d octets (RFC 2449 §4)", maxArgument)
				return false
			}
		}
	}
	if len(args) < cmd.minArgs || len(args) > cmd.maxArgs {
		s.err("syntax: %s", cmd.syntax)
		return false
	}
	return cmd.run(s, args)
}

// ok queues a positive status line, "+OK" and, unless empty, a space and
// the text (RFC 1939 §3).
func (s *session) ok(format string, args ...any) {
	s.status("+OK", format, args...)
}

// err queues a negative status line, "-ERR" and, unless empty, a space and
// the text; a response code (RFC 2449 §8) goes in brackets at the start of
// the text.
func (s *session) err(format string, args ...any) {
	s.status("-ERR", format, args...)
}

func (s *session) status(indicator, format string, args ...any) {
	s.w.WriteString(indicator)
	if format != "" {
		s.w.WriteByte(' ')
		fmt.Fprintf(s.w, format, args...)
	}
	s.w.WriteString("\r\n")
}
