package smtpclient

import (
	"bufio"
	"bytes"

	"github.com/mailcheck/mailcheck/bounds"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// ReplyScanner reads replies for a client that sends transactions by the
// thousand over a connection handed over by Detach (the load generator):
// a one-line reply with the wanted code costs no allocation; any other is
// gathered whole, within the policy's bounds, and parsed like ReadReply.
// It sets no deadline: the caller arms the connection's.
type ReplyScanner struct {
	r   *bufio.Reader
	lim smtpreply.Limits
	raw []byte // a reply off the fast path, reused
}

// NewReplyScanner returns a scanner of the replies on r.
func NewReplyScanner(r *bufio.Reader, p bounds.Policy) *ReplyScanner {
	p = p.WithDefaults()
	return &ReplyScanner{r: r, lim: smtpreply.Limits{Lines: p.ReplyLines, Octets: p.ReplyOctets}}
}

// Expect reads one reply and returns nil when its code is want, else the
// reply (a *smtpreply.Reply, as the error) or the read error.
func (s *ReplyScanner) Expect(want int) error {
	line, err := s.r.ReadSlice('\n')
	if err != nil {
		return s.lineError(err)
	}
	if len(line) >= 5 && line[3] == ' ' && isDigit(line[0]) && isDigit(line[1]) && isDigit(line[2]) &&
		int(line[0]-'0')*100+int(line[1]-'0')*10+int(line[2]-'0') == want {
		return nil
	}
	// Off the fast path: gather the whole reply ("ddd-" lines up to the
	// last, RFC 5321 §4.2.1) and parse it; a reply cut short by the bounds
	// here is one the parser refuses.
	raw := append(s.raw[:0], line...)
	for n := 1; len(line) > 3 && line[3] == '-' && n <= s.lim.Lines && len(raw) <= s.lim.Octets; n++ {
		if line, err = s.r.ReadSlice('\n'); err != nil {
			return s.lineError(err)
		}
		raw = append(raw, line...)
	}
	s.raw = raw
	r, err := smtpreply.ReadReplyLimited(bufio.NewReaderSize(bytes.NewReader(raw), len(raw)+16), true, s.lim, nil)
	switch {
	case err != nil:
		return exceeded(err)
	case r.Code != want:
		return r
	}
	return nil
}

// lineError names a line longer than the reader's buffer.
func (s *ReplyScanner) lineError(err error) error {
	if err == bufio.ErrBufferFull {
		return exceeded(&smtpreply.LimitError{What: "line", Limit: s.r.Size()})
	}
	return err
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }
