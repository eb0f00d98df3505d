package pop3suite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/pop3/pop3client"
)

// session is one POP3 connection of a check: the POP3 client core over
// the engine's recorded connection (c, for what only the engine does:
// waiting for a close, patience, TLS).
type session struct {
	t        *engine.T
	c        *engine.Conn
	pop      *pop3client.Client
	greeting string
}

// dial connects and reads the greeting. A greeting -ERR [SYS/TEMP] or
// [IN-USE] is a busy server: the runner tries the check again later.
func dial(ctx context.Context, t *engine.T) (*session, error) {
	c, err := t.Dial(ctx)
	if err != nil {
		return nil, err
	}
	pop := pop3client.New(c, t.Options.Bounds())
	g, err := pop.ReadLine()
	if err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if engine.BusyPOP3(trim(g)) {
		return nil, engine.Busy("greeting %q", trim(g))
	}
	return &session{t: t, c: c, pop: pop, greeting: trim(g)}, nil
}

func trim(b []byte) string { return strings.TrimRight(string(b), "\r\n") }

// cmd sends a command and returns the status line as it came: the
// checks judge its grammar themselves.
func (s *session) cmd(line string) (string, error) {
	if err := s.pop.Send(line); err != nil {
		return "", err
	}
	l, err := s.pop.ReadLine()
	return trim(l), err
}

// errUnterminated is a multi-line response that never ended.
var errUnterminated = errors.New("multi-line response without its terminating \".\" line")

// multi reads a multi-line body up to the "." line, undoing byte-stuffing
// (RFC 1939 §3); lines keep their CRLF. raw is what came on the wire. A
// body is bounded by the check's policy (its Literal); one that stops
// coming before its "." line is errUnterminated.
func (s *session) multi() (body, raw []byte, err error) {
	body, raw, err = s.pop.ReadMultiRaw(s.pop.Policy().Literal)
	if errors.Is(err, engine.ErrTimeout) {
		return body, raw, errUnterminated
	}
	return body, raw, err
}

// tryLogin is dial plus USER/PASS, entering TRANSACTION. It retries while
// another session holds the maildrop ([IN-USE]). A refusal is an
// *engine.PreconditionError quoting the reply.
func tryLogin(ctx context.Context, t *engine.T) (*session, error) {
	if t.Target.User == "" {
		return nil, engine.Unmet("needs a login: pop3://user:password@host:port")
	}
	start := time.Now()
	deadline := start.Add(t.Options.ReadbackTimeout)
	for {
		s, err := dial(ctx, t)
		if err != nil {
			return nil, err
		}
		r, err := s.status("USER " + t.Target.User)
		switch {
		case err != nil:
			return nil, err
		case !r.ok:
			return nil, engine.Unmet("USER refused: %q", r.line)
		}
		if r, err = s.status("PASS " + t.Target.Password); err != nil || r.ok {
			return s, err
		}
		s.c.Close()
		// Setup reads leniently what pop3.resp-codes.syntax judges: an
		// [IN-USE] misplaced after the text still means the lock. A lock
		// held by another session, or a temporary system problem, is
		// waited out; past the read-back timeout the server is busy, and
		// the runner runs the check again.
		busy := r.code.is("IN-USE") || r.code.is("SYS/TEMP") || engine.BusyPOP3(r.line) || strings.Contains(r.text, "[IN-USE]")
		// A server without RESP-CODES says "locked" in words only; the
		// lock of the session just ended (the check before, whose
		// connection the server has not seen close yet) lifts within
		// moments, so such a refusal is waited out briefly too.
		lingering := !busy && lockWords(r.text) && time.Since(start) < lockLinger
		switch {
		case lingering:
		case !busy:
			return nil, refusedLogin(r)
		case time.Now().After(deadline):
			return nil, engine.Busy("login refused: %q", r.line)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lockLinger is how long tryLogin waits out a refusal that says the
// maildrop is locked in words, without a response code.
const lockLinger = 3 * time.Second

// lockWords reports whether a refusal's text says the maildrop is locked
// or in use.
func lockWords(text string) bool {
	t := strings.ToLower(text)
	return strings.Contains(t, "locked") || strings.Contains(t, "in use")
}

// stat returns STAT's count and octets, a setup step: a STAT line that is
// not "+OK n size" is pop3.stat.syntax's fault.
func (s *session) stat() (int, int64) {
	r := s.setup("STAT")
	n, size, ok := dropListing(r.line)
	if !ok {
		s.t.Precondition("STAT answered %q, not \"+OK n size\" (see pop3.stat.syntax)", r.line)
	}
	return n, size
}

// dropListing reads "+OK n size" (RFC 1939 §5, STAT).
func dropListing(line string) (int, int64, bool) {
	if !statLine.MatchString(line) {
		return 0, 0, false
	}
	var n int
	var size int64
	_, err := fmt.Sscanf(line, "+OK %d %d", &n, &size)
	return n, size, err == nil
}

// capa returns the CAPA listing, or ok false when CAPA is not supported.
// A listing that never ends is an unmet precondition (see
// pop3.multiline.terminated); its lines are read against RFC 2449 §9.
func (s *session) capa() (capaListing, bool) {
	if r := s.do("CAPA"); !r.ok {
		return capaListing{}, false
	}
	body, _ := s.setupMulti("CAPA")
	return parseCapa(body), true
}
