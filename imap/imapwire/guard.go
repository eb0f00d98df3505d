package imapwire

import (
	"github.com/mailcheck/mailcheck/bounds"
)

// Guard holds a server's IMAP stream to a policy as it is read, for a
// client that reads the stream itself (go-imap's, in agent/imapfetch): fed
// every chunk read, it tells lines from literal content, refuses a literal
// announced over Policy.Literal as soon as its announcement has passed
// (before the client reads any of it), a line over Policy.Line, and
// everything past Policy.Total. Once it refused, it refuses every chunk.
type Guard struct {
	policy bounds.Policy
	meter  *bounds.Meter
	// lineLen is the current line's length so far, tail its last octets
	// (enough to hold a literal's announcement).
	lineLen int
	tail    []byte
	// literal is the content of an announced literal still to come.
	literal int64
	err     error
}

// tailSize holds "~{" number64 "+}" CRLF: 19 digits and 6 octets.
const tailSize = 32

// NewGuard guards a stream with p (zero fields from bounds.Default).
func NewGuard(p bounds.Policy) *Guard {
	m := bounds.NewMeter(p)
	return &Guard{policy: m.Policy(), meter: m}
}

// Check accounts for b, the next octets read from the server: an error
// (wrapping bounds.ErrExceeded) when they pass a limit.
func (g *Guard) Check(b []byte) error {
	if g.err != nil {
		return g.err
	}
	if g.err = g.meter.Count(len(b)); g.err != nil {
		return g.err
	}
	for len(b) > 0 && g.err == nil {
		b = g.take(b)
	}
	return g.err
}

// take consumes literal content, or line octets up to a line's end, and
// returns the rest.
func (g *Guard) take(b []byte) []byte {
	if g.literal > 0 {
		n := min(g.literal, int64(len(b)))
		g.literal -= n
		return b[n:]
	}
	end := len(b)
	for i, c := range b {
		if c == '\n' {
			end = i + 1
			break
		}
	}
	g.lineLen += end
	g.tail = append(g.tail, b[:end]...)
	if len(g.tail) > tailSize {
		g.tail = append(g.tail[:0], g.tail[len(g.tail)-tailSize:]...)
	}
	if g.lineLen > g.policy.Line {
		g.err = &bounds.ExceededError{What: "line", Limit: int64(g.policy.Line)}
		return nil
	}
	if b[end-1] == '\n' {
		g.endLine()
	}
	return b[end:]
}

// endLine checks a literal the line announces.
func (g *Guard) endLine() {
	lit, ok := LiteralAt(g.tail)
	g.lineLen, g.tail = 0, g.tail[:0]
	if ok {
		g.err = lit.Check(g.policy)
		g.literal = lit.Size
	}
}

// Err is the guard's refusal, nil while it has refused nothing: a client
// that wraps what its reads return (go-imap does, in words) can give the
// refusal itself instead.
func (g *Guard) Err() error { return g.err }
