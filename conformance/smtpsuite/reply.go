package smtpsuite

import (
	"bufio"
	"bytes"
	"fmt"

	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// read reads one reply and reads it against the reply grammar (RFC 5321
// §4.2, see flawIn). A reply whose code can still be read is returned, its
// flaw noted in the transcript and kept in s.flaws, so the check that
// judges it says "malformed" (describe) and smtp.reply.syntax fails it; a
// reply that cannot be read at all is an error naming the flaw.
func (s *session) read() (*smtpreply.Reply, error) {
	lines, err := s.readLines()
	if err != nil {
		return nil, err
	}
	flaw := flawIn(lines, s.has("ENHANCEDSTATUSCODES"), s.has("SMTPUTF8"))
	all := bytes.Join(lines, nil)
	r, perr := smtpreply.ReadReply(bufio.NewReaderSize(bytes.NewReader(all), len(all)+16), true, nil)
	if perr != nil {
		if flaw != nil {
			return nil, fmt.Errorf("%w: %s", smtpreply.ErrMalformedReply, flaw)
		}
		return nil, perr
	}
	if flaw != nil {
		s.t.Note("malformed reply: %s", flaw)
		if s.flaws == nil {
			s.flaws = make(map[*smtpreply.Reply]*replyFlaw)
		}
		s.flaws[r] = flaw
	}
	return r, nil
}

// readLines reads the raw lines of one reply, line ends included: up to a
// line that is not a continuation ("ddd-"), within the bounds of
// smtpreply.ReadReply.
func (s *session) readLines() ([][]byte, error) {
	var lines [][]byte
	octets := 0
	for {
		line, err := s.c.ReadLine()
		if err != nil {
			if len(lines) > 0 {
				return nil, fmt.Errorf("in the middle of a reply: %w", err)
			}
			return nil, err
		}
		lines = append(lines, line)
		if octets += len(line); octets > smtpreply.MaxReplyOctets || len(lines) > smtpreply.MaxReplyLines {
			return nil, fmt.Errorf("%w: more than %d lines or %d octets", smtpreply.ErrMalformedReply, smtpreply.MaxReplyLines, smtpreply.MaxReplyOctets)
		}
		if len(line) < 4 || line[3] != '-' {
			return lines, nil
		}
	}
}
