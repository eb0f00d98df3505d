package pop3server

import (
	"bufio"
	"errors"
	"math"
	"strconv"
)

// command describes one POP3 command: the states it is valid in, its
// arguments and its handler, which reports whether the session is over.
type command struct {
	auth, transaction bool // valid in AUTHORIZATION, in TRANSACTION
	minArgs, maxArgs  int
	// wholeArg takes everything after the keyword and its space as one
	// argument, spaces included, of any length up to the line limit: PASS
	// (RFC 1939 §7 lets a server treat spaces in it as part of the
	// password).
	wholeArg bool
	syntax   string
	run      func(s *session, args []string) (quit bool)
}

func (c command) validIn(st state) bool {
	return st == stateAuthorization && c.auth || st == stateTransaction && c.transaction
}

// commands are those of RFC 1939 (minus APOP), CAPA (RFC 2449 §5) and STLS
// (RFC 2595 §4).
var commands = map[string]command{
	"USER": {auth: true, minArgs: 1, maxArgs: 1, syntax: "USER name", run: (*session).cmdUser},
	"PASS": {auth: true, minArgs: 1, maxArgs: 1, wholeArg: true, syntax: "PASS string", run: (*session).cmdPass},
	"STLS": {auth: true, syntax: "STLS", run: (*session).cmdStls},
	"CAPA": {auth: true, transaction: true, syntax: "CAPA", run: (*session).cmdCapa},
	"QUIT": {auth: true, transaction: true, syntax: "QUIT", run: (*session).cmdQuit},
	"STAT": {transaction: true, syntax: "STAT", run: (*session).cmdStat},
	"LIST": {transaction: true, maxArgs: 1, syntax: "LIST [msg]", run: (*session).cmdList},
	"RETR": {transaction: true, minArgs: 1, maxArgs: 1, syntax: "RETR msg", run: (*session).cmdRetr},
	"DELE": {transaction: true, minArgs: 1, maxArgs: 1, syntax: "DELE msg", run: (*session).cmdDele},
	"NOOP": {transaction: true, syntax: "NOOP", run: (*session).cmdNoop},
	"RSET": {transaction: true, syntax: "RSET", run: (*session).cmdRset},
	"TOP":  {transaction: true, minArgs: 2, maxArgs: 2, syntax: "TOP msg n", run: (*session).cmdTop},
	"UIDL": {transaction: true, maxArgs: 1, syntax: "UIDL [msg]", run: (*session).cmdUidl},
}

// unsupported are commands of the POP3 RFCs this server does not offer:
// APOP (RFC 1939 §7, MD5 over a shared secret), AUTH (RFC 5034, SASL), and
// UTF8 and LANG (RFC 6856).
var unsupported = map[string]bool{"APOP": true, "AUTH": true, "UTF8": true, "LANG": true}

// plainLoginAllowed reports whether USER and PASS may be used now: under
// TLS, or with InsecureAuth (RFC 2595 §4 lets a server refuse clear-text
// passwords; RFC 8314 §2 asks that none cross the network unencrypted). A
// server without TLS refuses them too unless InsecureAuth says otherwise:
// sending passwords in clear is an explicit choice, never a default.
func (s *session) plainLoginAllowed() bool {
	return s.conn.TLS() || s.srv.opts.InsecureAuth
}

// refusePlainLogin answers USER or PASS on a connection where passwords
// are refused.
func (s *session) refusePlainLogin() {
	if s.srv.opts.TLSConfig == nil {
		s.err("[AUTH] Plain-text login refused: the connection is not encrypted and the server offers no TLS")
		return
	}
	s.err(errPlainRefused)
}

// stlsOffered reports whether STLS is available: TLS configured and not
// yet active.
func (s *session) stlsOffered() bool {
	return s.srv.opts.TLSConfig != nil && !s.conn.TLS()
}

const errPlainRefused = "[AUTH] Plain-text login refused on an unencrypted connection; use STLS first (RFC 2595 §4)"

// cmdUser handles USER name (RFC 1939 §7). The reply is the same for every
// name, so it does not tell which users exist.
func (s *session) cmdUser(args []string) bool {
	if !s.plainLoginAllowed() {
		s.refusePlainLogin()
		return false
	}
	s.userArg = args[0]
	s.ok("send PASS")
	return false
}

// cmdPass handles PASS string (RFC 1939 §7), then takes the maildrop lock
// (§8) and opens the maildrop, entering the TRANSACTION state.
func (s *session) cmdPass(args []string) bool {
	switch {
	case !s.plainLoginAllowed():
		s.refusePlainLogin()
		return false
	case s.prevUserArg == "":
		s.err("PASS must immediately follow a successful USER (RFC 1939 §7)")
		return false
	}
	name := s.prevUserArg
	user, err := s.srv.backend.Authenticate(s.ctx, name, args[0])
	if err == nil && user == "" {
		err = errors.New("backend returned an empty user name")
	}
	if err != nil {
		if !errors.Is(err, ErrAuthFailed) {
			s.log.Error("authentication backend failed", "username", name, "err", err)
			s.err("[SYS/TEMP] temporary authentication failure, try again later")
			return false
		}
		// Slow down password guessing: the delay grows with this
		// client's failures, over any connection or protocol sharing
		// the throttle. The password is never logged.
		// Nor is the name as given: it may be a password typed
		// into USER. user is the account's, if any.
		delay := s.srv.opts.LoginThrottle.Failure(s.conn.RemoteAddr())
		s.log.Info("authentication failed", "user", user, "delay", delay)
		s.conn.Pause(delay)
		// RFC 3206: AUTH, the credentials were wrong. The text is the
		// same for an unknown user and a wrong password.
		s.err("[AUTH] Authentication failed")
		return false
	}
	// RFC 1939 §8: the exclusive-access lock. RFC 2449 §8.1.2: IN-USE.
	if !s.srv.locks.tryLock(user) {
		s.log.Info("maildrop locked by another session", "user", user)
		s.err("[IN-USE] Maildrop already locked")
		return false
	}
	drop, err := s.srv.backend.OpenMaildrop(s.ctx, user)
	if err != nil {
		s.srv.locks.unlock(user)
		s.log.Error("opening maildrop failed", "user", user, "err", err)
		s.err("[SYS/TEMP] unable to open maildrop, try again later")
		return false
	}
	msgs := append([]MessageInfo(nil), drop.Messages()...)
	if err := checkMessages(msgs); err != nil {
		drop.Close()
		s.srv.locks.unlock(user)
		s.log.Error("maildrop listing is invalid", "user", user, "err", err)
		s.err("[SYS/TEMP] unable to open maildrop, try again later")
		return false
	}
	s.user, s.drop, s.msgs, s.deleted = user, drop, msgs, make([]bool, len(msgs))
	s.state = stateTransaction
	n, octets := s.stat()
	s.log.Info("logged in", "user", user, "messages", n, "octets", octets)
	s.ok("maildrop has %d messages (%d octets)", n, octets)
	return false
}

// checkMessages verifies a backend's listing: sizes not negative, and
// unique-ids of 1 to 70 characters in 0x21-0x7E, unique in the maildrop
// (RFC 1939 §7, UIDL).
func checkMessages(msgs []MessageInfo) error {
	seen := make(map[string]bool, len(msgs))
	for i, m := range msgs {
		if m.Size < 0 {
			return errors.New("message " + strconv.Itoa(i+1) + ": negative size")
		}
		if len(m.UID) < 1 || len(m.UID) > 70 {
			return errors.New("message " + strconv.Itoa(i+1) + ": unique-id not 1 to 70 characters")
		}
		for j := 0; j < len(m.UID); j++ {
			if c := m.UID[j]; c < 0x21 || c > 0x7e {
				return errors.New("message " + strconv.Itoa(i+1) + ": unique-id has a character outside 0x21-0x7E")
			}
		}
		if seen[m.UID] {
			return errors.New("message " + strconv.Itoa(i+1) + ": unique-id " + m.UID + " not unique")
		}
		seen[m.UID] = true
	}
	return nil
}

// cmdStls handles STLS (RFC 2595 §4), valid only in AUTHORIZATION. It
// reports whether the session is over (a failed handshake ends it).
func (s *session) cmdStls(args []string) (quit bool) {
	switch {
	case s.srv.opts.TLSConfig == nil:
		s.err("STLS not available")
		return false
	case s.conn.TLS():
		s.err("Command not permitted when TLS active")
		return false
	}
	s.ok("Begin TLS negotiation")
	// lineserver sends the reply, then drops any plaintext pipelined after
	// STLS: RFC 2595 §4 and CVE-2011-0411 forbid executing it after the
	// handshake.
	if s.conn.StartTLS(s.srv.opts.TLSConfig) != nil {
		return true
	}
	// Still AUTHORIZATION. A USER given before STLS does not carry over:
	// handleLine cleared it, as it does for every command but USER.
	return false
}

// cmdCapa handles CAPA (RFC 2449 §5). The list is the same in both states:
// §5 requires capabilities of the AUTHORIZATION state to be announced in
// both, and every one here is "both" in its definition.
func (s *session) cmdCapa(args []string) bool {
	s.ok("Capability list follows")
	m := newMultiline(s.w)
	m.line("TOP") // RFC 2449 §6.1
	if s.plainLoginAllowed() {
		// RFC 2449 §6.2; RFC 2595 §4: not announced while clear-text
		// passwords are refused.
		m.line("USER")
	}
	m.line("UIDL")           // RFC 2449 §6.8
	m.line("PIPELINING")     // RFC 2449 §6.6
	m.line("RESP-CODES")     // RFC 2449 §6.4
	m.line("AUTH-RESP-CODE") // RFC 3206
	if s.stlsOffered() {
		m.line("STLS") // RFC 2595 §4
	}
	m.line("IMPLEMENTATION mailcheck-reference") // RFC 2449 §6.9
	m.end()
	return false
}

// cmdQuit handles QUIT (RFC 1939 §5 and §6). In AUTHORIZATION it just
// signs off. In TRANSACTION it enters the UPDATE state: the messages
// marked deleted are removed — only here — and the session ends.
func (s *session) cmdQuit(args []string) (quit bool) {
	if s.state == stateAuthorization {
		s.ok("%s POP3 server signing off", s.srv.opts.Hostname)
		return true
	}
	s.state = stateUpdate
	var uids []string
	for i, m := range s.msgs {
		if s.deleted[i] {
			uids = append(uids, m.UID)
		}
	}
	var err error
	if len(uids) > 0 {
		err = s.drop.Delete(uids)
	}
	user := s.user
	// Release the lock before the reply goes out, so the client may log in
	// again as soon as it reads it.
	s.release()
	if err != nil {
		s.log.Error("UPDATE: deleting messages failed", "user", user, "marked", len(uids), "err", err)
		// RFC 1939 §6 and RFC 3206 (SYS/TEMP).
		s.err("[SYS/TEMP] some deleted messages not removed")
		return true
	}
	s.log.Info("UPDATE: messages deleted", "user", user, "deleted", len(uids))
	s.ok("%s POP3 server signing off (%d messages deleted)", s.srv.opts.Hostname, len(uids))
	return true
}

// stat counts the messages not marked deleted and their octets.
func (s *session) stat() (n int, octets int64) {
	for i, m := range s.msgs {
		if !s.deleted[i] {
			n++
			octets += m.Size
		}
	}
	return n, octets
}

// cmdStat handles STAT (RFC 1939 §5): "+OK nn mm", exactly.
func (s *session) cmdStat(args []string) bool {
	n, octets := s.stat()
	s.ok("%d %d", n, octets)
	return false
}

// message resolves a message-number argument to an index into s.msgs. On
// failure it queues the -ERR and reports false. RFC 1939 §5: a message
// marked deleted may not be referred to.
func (s *session) message(arg string) (int, bool) {
	n, ok := parseNumber(arg)
	switch {
	case !ok:
		s.err("syntax error: a message number is a positive decimal integer")
		return 0, false
	case n < 1 || n > uint64(len(s.msgs)):
		s.err("no such message")
		return 0, false
	case s.deleted[n-1]:
		s.err("message %d already deleted", n)
		return 0, false
	}
	return int(n - 1), true
}

// parseNumber parses a non-negative decimal integer of ASCII digits only:
// no sign, no spaces. A value too large for uint64 gives math.MaxUint64.
func parseNumber(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return math.MaxUint64, true
	}
	return n, true
}

// cmdList handles LIST [msg] (RFC 1939 §5): a scan listing, "msg octets",
// of one message or of every message not marked deleted.
func (s *session) cmdList(args []string) bool {
	if len(args) == 1 {
		if i, ok := s.message(args[0]); ok {
			s.ok("%d %d", i+1, s.msgs[i].Size)
		}
		return false
	}
	n, octets := s.stat()
	s.ok("%d messages (%d octets)", n, octets)
	m := newMultiline(s.w)
	for i := range s.msgs {
		if !s.deleted[i] {
			m.line(strconv.Itoa(i+1) + " " + strconv.FormatInt(s.msgs[i].Size, 10))
		}
	}
	m.end()
	return false
}

// cmdUidl handles UIDL [msg] (RFC 1939 §7): a unique-id listing, "msg
// unique-id", of one message or of every message not marked deleted.
func (s *session) cmdUidl(args []string) bool {
	if len(args) == 1 {
		if i, ok := s.message(args[0]); ok {
			s.ok("%d %s", i+1, s.msgs[i].UID)
		}
		return false
	}
	s.ok("unique-id listing follows")
	m := newMultiline(s.w)
	for i := range s.msgs {
		if !s.deleted[i] {
			m.line(strconv.Itoa(i+1) + " " + s.msgs[i].UID)
		}
	}
	m.end()
	return false
}

// cmdRetr handles RETR msg (RFC 1939 §5).
func (s *session) cmdRetr(args []string) (quit bool) {
	i, ok := s.message(args[0])
	if !ok {
		return false
	}
	return s.sendMessage(i, -1)
}

// cmdTop handles TOP msg n (RFC 1939 §7): the header section, the blank
// line and the first n lines of the body.
func (s *session) cmdTop(args []string) (quit bool) {
	i, ok := s.message(args[0])
	if !ok {
		return false
	}
	n, ok := parseNumber(args[1])
	if !ok {
		s.err("syntax error: the number of lines is a non-negative decimal integer")
		return false
	}
	return s.sendMessage(i, int64(min(n, math.MaxInt64)))
}

// sendMessage sends message i as a multi-line response: whole (RETR) when
// bodyLines < 0, else its top (TOP). A message the backend cannot open gets
// -ERR and the session goes on. Once "+OK" is sent there is no way to
// report a failure in the protocol, so a read error or, for RETR, a message
// whose length differs from its listed size ends the session without the
// terminating line: the client sees the response is incomplete, and no
// client is led to accept octets that disagree with LIST.
func (s *session) sendMessage(i int, bodyLines int64) (quit bool) {
	info := s.msgs[i]
	rc, err := s.drop.Open(info.UID)
	if err != nil {
		s.log.Warn("opening message failed", "user", s.user, "uid", info.UID, "err", err)
		s.err("message %d is no longer available", i+1)
		return false
	}
	defer rc.Close()
	if bodyLines < 0 {
		// RFC 1939 §5: the octet count is the size before byte-stuffing.
		s.ok("%d octets", info.Size)
	} else {
		s.ok("top of message follows")
	}
	if s.msgR == nil {
		s.msgR = bufio.NewReaderSize(rc, messageBufferSize)
	} else {
		s.msgR.Reset(rc)
	}
	defer s.msgR.Reset(nil)
	m := newMultiline(s.w)
	n, err := m.copyMessage(s.msgR, bodyLines)
	if err != nil {
		s.log.Error("reading message failed; ending the session", "user", s.user, "uid", info.UID, "err", err)
		return true
	}
	if bodyLines < 0 && n != info.Size {
		s.log.Error("message length differs from its listed size; ending the session",
			"user", s.user, "uid", info.UID, "listed", info.Size, "read", n)
		return true
	}
	m.end()
	return false
}

// cmdDele handles DELE msg (RFC 1939 §5): the message is only marked; it
// is removed in the UPDATE state, and message numbers do not change.
func (s *session) cmdDele(args []string) bool {
	i, ok := s.message(args[0])
	if !ok {
		return false
	}
	s.deleted[i] = true
	s.ok("message %d deleted", i+1)
	return false
}

// cmdNoop handles NOOP (RFC 1939 §5).
func (s *session) cmdNoop(args []string) bool {
	s.ok("")
	return false
}

// cmdRset handles RSET (RFC 1939 §5): every deletion mark is removed.
func (s *session) cmdRset(args []string) bool {
	clear(s.deleted)
	n, octets := s.stat()
	s.ok("maildrop has %d messages (%d octets)", n, octets)
	return false
}
