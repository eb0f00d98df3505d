package pop3suite

import (
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
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			st, err := s.cmd("STAT")
			if err != nil {
				return err
			}
			if !statLine.MatchString(st) {
				t.Fail("STAT answered %q; the drop listing is \"+OK\", a space, the count, a space, the size, and nothing else", st)
			}
			return nil
		},
	},
	{
		ID: "pop3.stat.agrees-list", Title: "STAT's count and size equal LIST's", Spec: "RFC 1939 §5", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			n, size, err := s.stat()
			if err != nil {
				return err
			}
			entries, err := s.list()
			if err != nil {
				return err
			}
			var sum int64
			for _, e := range entries {
				sum += e
			}
			if len(entries) != n || sum != size {
				t.Fail("STAT says %d messages, %d octets; LIST lists %d messages, %d octets", n, size, len(entries), sum)
			}
			return nil
		},
	},
	{
		ID: "pop3.list.matches-retr", Title: "LIST's size equals the octets RETR sends (before stuffing)", Spec: "RFC 1939 §5 (LIST, RETR)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nums, nonces, err := seededSession(ctx, t, ".\r\n..\r\n.x\r\nplain\r\n")
			if s == nil || err != nil {
				return err
			}
			defer cleanup(ctx, t, nonces)
			n := strconv.Itoa(nums[0])
			st, err := s.cmd("LIST " + n)
			if err != nil {
				return err
			}
			var num int
			var listed int64
			if _, err := fmt.Sscanf(st, "+OK %d %d", &num, &listed); err != nil {
				t.Fail("LIST %s answered %q", n, st)
				return nil
			}
			if _, ok, err := s.want("RETR "+n, true, "RETR of an existing message"); !ok || err != nil {
				return err
			}
			body, _, err := s.multi()
			if err != nil {
				return err
			}
			if int64(len(body)) != listed {
				t.Fail("LIST says %d octets, RETR sent %d (after undoing byte-stuffing)", listed, len(body))
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
		s, err := login(ctx, t)
		if s == nil || err != nil {
			return err
		}
		n, _, err := s.stat()
		if err != nil {
			return err
		}
		_, _, err = s.want(fmt.Sprintf("%s %d", cmd, n+1), false, "no such message")
		if err == nil {
			s.cmd("RSET")
		}
		return err
	}
}

// list returns LIST's sizes in order.
func (s *session) list() ([]int64, error) {
	st, err := s.cmd("LIST")
	if err != nil || !positive(st) {
		return nil, fmt.Errorf("LIST: %q %v", st, err)
	}
	body, _, err := s.multi()
	if err != nil {
		return nil, err
	}
	var sizes []int64
	for _, l := range strings.Split(strings.TrimSpace(string(body)), "\r\n") {
		if l == "" {
			continue
		}
		var num int
		var size int64
		if _, err := fmt.Sscanf(l, "%d %d", &num, &size); err != nil {
			return nil, fmt.Errorf("LIST line %q", l)
		}
		sizes = append(sizes, size)
	}
	return sizes, nil
}
