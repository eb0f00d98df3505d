package pop3suite

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// A check reads as steps. Each step either holds or ends the check: a
// broken connection with Error (could not decide), a refused step that is
// not the check's subject with Skip ("precondition: …", the reply quoted),
// and only the assertion about the subject with Fail.

// do sends a command and reads its status line against the grammar. A
// line that is no status line ends the check as a precondition: the
// server's answer cannot be read, and pop3.status.case owns that fault.
func (s *session) do(line string) reply {
	st, err := s.cmd(line)
	s.t.Require(err)
	r, perr := parseReply(st)
	if perr != nil {
		s.t.Precondition("%s: the answer is malformed: %v (see pop3.status.case)", shown(line), perr)
	}
	return r
}

// expect is the check's assertion on a command's status: the check fails
// unless the reply is positive (ok) or negative (!ok).
func (s *session) expect(line string, ok bool, why string) reply {
	r := s.do(line)
	if r.ok != ok {
		want := "-ERR"
		if ok {
			want = "+OK"
		}
		s.t.FailNow("%s: %q got %q, want %s", why, shown(line), r.line, want)
	}
	return r
}

// setup is a step before the check's subject: a refusal ends the check
// as an unmet precondition, quoting the reply.
func (s *session) setup(line string) reply {
	r := s.do(line)
	if !r.ok {
		s.t.Require(engine.Unmet("%s refused: %q", shown(line), r.line))
	}
	return r
}

// setupMulti reads the body of a multi-line response a setup step
// needs; a response that never ends is pop3.multiline.terminated's fault.
func (s *session) setupMulti(cmd string) (body, raw []byte) {
	body, raw, err := s.multi()
	if errors.Is(err, errUnterminated) {
		s.t.Require(engine.Unmet("%s: %v (see pop3.multiline.terminated)", shown(cmd), err))
	}
	s.t.Require(err)
	return body, raw
}

// fetch is a setup step for a multi-line command: +OK and the body.
func (s *session) fetch(line string) (body, raw []byte) {
	s.setup(line)
	return s.setupMulti(line)
}

// shown is a command as it may be quoted in a verdict: never a password.
func shown(line string) string {
	if len(line) >= 5 && strings.EqualFold(line[:5], "PASS ") {
		return "PASS …"
	}
	return line
}

// login is the setup step of a check that needs the TRANSACTION state.
func login(ctx context.Context, t *engine.T) *session {
	s, err := tryLogin(ctx, t)
	t.Require(err)
	return s
}

// refusedLogin says why PASS was refused, as an unmet precondition: a
// login is every check's setup and never its subject (pop3.auth.* own
// authentication). LOGIN-DELAY and SYS/TEMP are temporary conditions
// (RFC 2449 §8.1.1, RFC 3206 §4), never a fault of the server.
func refusedLogin(r reply) error {
	switch {
	case r.code.is("LOGIN-DELAY"):
		return engine.Unmet("login refused for now: %q: the server allows a login only so often (RFC 2449 §8.1.1, temporary)", r.line)
	case r.code.is("SYS/TEMP"):
		return engine.Unmet("login refused for now: %q: a temporary system problem (RFC 3206 §4)", r.line)
	}
	return engine.Unmet("login refused: %q", r.line)
}

// status reads a status line through cmd and the grammar, without ending
// the check: for setup helpers that report unmet preconditions as errors
// (cleanup must never end a check).
func (s *session) status(line string) (reply, error) {
	st, err := s.cmd(line)
	if err != nil {
		return reply{}, fmt.Errorf("%s: %w", shown(line), err)
	}
	r, perr := parseReply(st)
	if perr != nil {
		return r, engine.Unmet("%s: the answer is malformed: %v (see pop3.status.case)", shown(line), perr)
	}
	return r, nil
}

// need ends the check unless CAPA announces tag, well-formed: a skip when
// the server does not offer it, and, when the line meant to announce it is
// malformed, a precondition that says so (pop3.capa.syntax fails it).
func need(t *engine.T, caps capaListing, tag string) {
	if caps.has(tag) {
		return
	}
	if _, spoilt := caps.spoilt[tag]; spoilt {
		t.Precondition("%s", caps.lack(tag))
	}
	t.SkipNow("%s", caps.lack(tag))
}

// capaOrSkip reads CAPA; a server without CAPA skips the check, which
// needs a capability it cannot announce.
func (s *session) capaOrSkip() capaListing {
	caps, ok := s.capa()
	if !ok {
		s.t.SkipNow("CAPA not supported")
	}
	return caps
}
