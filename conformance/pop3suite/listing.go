package pop3suite

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

var statLine = regexp.MustCompile(`^\+OK [0-9]+ [0-9]+$`)

var listingChecks = []*engine.Check{
	{
		ID: "pop3.stat.syntax", Title: "STAT answers exactly \"+OK n size\"", Spec: "RFC 1939 §5 (STAT)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			if r := login(ctx, t).do("STAT"); !statLine.MatchString(r.line) {
				t.FailNow("STAT answered %q; the drop listing is \"+OK\", a space, the count, a space, the size, and nothing else", r.line)
			}
			return nil
		},
	},
	{
		ID: "pop3.stat.agrees-list", Title: "STAT's count and size equal LIST's", Spec: "RFC 1939 §5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s := login(ctx, t)
			n, size := s.stat()
			entries := s.list()
			var sum int64
			for _, e := range entries {
				sum += e
			}
			if len(entries) != n || sum != size {
				t.FailNow("STAT says %d messages, %d octets; LIST lists %d messages, %d octets", n, size, len(entries), sum)
			}
			return nil
		},
	},
	{
		ID: "pop3.list.matches-retr", Title: "LIST's size equals the octets RETR sends (before stuffing)", Spec: "RFC 1939 §5 (LIST, RETR)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nums, nonces := seededSession(ctx, t, ".\r\n..\r\n.x\r\nplain\r\n")
			defer cleanup(ctx, t, nonces)
			n := strconv.Itoa(nums[0])
			r := s.expect("LIST "+n, true, "LIST of an existing message")
			var num int
			var listed int64
			if _, err := fmt.Sscanf(r.line, "+OK %d %d", &num, &listed); err != nil {
				t.FailNow("LIST %s answered %q, not \"+OK n size\"", n, r.line)
			}
			body, _ := s.fetch("RETR " + n)
			if !bytes.Contains(body, []byte("\r\n.x\r\nplain\r\n")) {
				t.Precondition("RETR's response ended before the message did (%q): its lines starting with \".\" were not byte-stuffed (see pop3.retr.byte-stuffing)", tail(body))
			}
			if int64(len(body)) != listed {
				t.FailNow("LIST says %d octets, RETR sent %d (after undoing byte-stuffing)", listed, len(body))
			}
			return nil
		},
	},
	{
		ID: "pop3.list.missing", Title: "LIST of a message that does not exist gets -ERR", Spec: "RFC 1939 §5 (LIST)", Level: engine.Must,
		Run: missing("LIST"),
	},
	{
		ID: "pop3.retr.missing", Title: "RETR of a message that does not exist gets -ERR", Spec: "RFC 1939 §5 (RETR)", Level: engine.Must,
		Run: missing("RETR"),
	},
	{
		ID: "pop3.dele.missing", Title: "DELE of a message that does not exist gets -ERR", Spec: "RFC 1939 §5 (DELE)", Level: engine.Must,
		Run: missing("DELE"),
	},
}

// missing checks that cmd of the message after the last one is refused.
func missing(cmd string) func(context.Context, *engine.T) error {
	return func(ctx context.Context, t *engine.T) error {
		s := login(ctx, t)
		n, _ := s.stat()
		s.expect(fmt.Sprintf("%s %d", cmd, n+1), false, "no such message")
		s.cmd("RSET")
		return nil
	}
}

// list returns LIST's sizes in order, a setup step: a scan listing line
// that is not "n size" (RFC 1939 §5, LIST) is an unmet precondition.
func (s *session) list() []int64 {
	body, _ := s.fetch("LIST")
	var sizes []int64
	for _, l := range strings.Split(strings.TrimSuffix(string(body), "\r\n"), "\r\n") {
		if l == "" && len(body) == 0 {
			break
		}
		var num int
		var size int64
		if _, err := fmt.Sscanf(l, "%d %d", &num, &size); err != nil {
			s.t.Precondition("LIST line %q is not a scan listing \"n size\"", l)
		}
		sizes = append(sizes, size)
	}
	return sizes
}
