package pop3suite

import (
	"context"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// uidls returns the UIDL listing (number → id) of a session that has the
// check's seeded messages; nil when UIDL is not supported.
func (s *session) uidls() (map[int]string, error) {
	st, err := s.cmd("UIDL")
	if err != nil || !positive(st) {
		return nil, err
	}
	body, _, err := s.multi()
	if err != nil {
		return nil, err
	}
	out := map[int]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(body), "\r\n"), "\r\n") {
		num, id, _ := strings.Cut(l, " ")
		n, err := strconv.Atoi(num)
		if err != nil {
			continue
		}
		out[n] = id
	}
	return out, nil
}

// validUIDL reports RFC 1939 §7 unique-id syntax: 1 to 70 characters in
// 0x21-0x7E.
func validUIDL(id string) bool {
	if len(id) < 1 || len(id) > 70 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

func uidlSession(ctx context.Context, t *engine.T, bodies ...string) (*session, []string, []int, map[int]string, error) {
	nonces, err := seeded(ctx, t, bodies...)
	if nonces == nil || err != nil {
		return nil, nil, nil, nil, err
	}
	s, nums, err := loginFind(ctx, t, nonces)
	if err != nil {
		cleanup(ctx, t, nonces)
		return nil, nil, nil, nil, err
	}
	ids, err := s.uidls()
	if err != nil || ids == nil {
		if err == nil {
			t.Skip("UIDL not supported")
		}
		s.cmd("QUIT")
		cleanup(ctx, t, nonces)
		return nil, nil, nil, nil, err
	}
	return s, nonces, nums, ids, nil
}

var uidlChecks = []*engine.Check{
	{
		ID: "pop3.uidl.syntax", Title: "Unique-ids are 1 to 70 printable characters (0x21-0x7E)", Spec: "RFC 1939 §7 (UIDL)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nonces, _, ids, err := uidlSession(ctx, t, "uidl\r\n")
			if s == nil || err != nil {
				return err
			}
			defer cleanup(ctx, t, nonces)
			defer s.cmd("QUIT")
			for n, id := range ids {
				if !validUIDL(id) {
					t.Fail("message %d has the unique-id %q", n, id)
					return nil
				}
			}
			return nil
		},
	},
	{
		ID: "pop3.uidl.unique", Title: "Unique-ids are unique in the maildrop", Spec: "RFC 1939 §7 (UIDL)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nonces, _, ids, err := uidlSession(ctx, t, "one\r\n", "two\r\n")
			if s == nil || err != nil {
				return err
			}
			defer cleanup(ctx, t, nonces)
			defer s.cmd("QUIT")
			seen := map[string]int{}
			for n, id := range ids {
				if m, dup := seen[id]; dup {
					t.Fail("messages %d and %d share the unique-id %q", m, n, id)
					return nil
				}
				seen[id] = n
			}
			return nil
		},
	},
	{
		ID: "pop3.uidl.stable", Title: "A message's unique-id is the same in the next session", Spec: "RFC 1939 §7 (UIDL)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nonces, nums, ids, err := uidlSession(ctx, t, "stable\r\n")
			if s == nil || err != nil {
				return err
			}
			defer cleanup(ctx, t, nonces)
			first := ids[nums[0]]
			s.cmd("QUIT")
			s2, nums2, err := loginFind(ctx, t, nonces)
			if err != nil {
				return err
			}
			defer s2.cmd("QUIT")
			ids2, err := s2.uidls()
			if err != nil {
				return err
			}
			if again := ids2[nums2[0]]; again != first {
				t.Fail("unique-id %q in one session, %q in the next", first, again)
			}
			return nil
		},
	},
}
