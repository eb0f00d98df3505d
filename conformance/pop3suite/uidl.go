package pop3suite

import (
	"context"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// uidls returns the UIDL listing (number → id) of a session that has the
// check's seeded messages; a server without UIDL skips the check.
func (s *session) uidls() map[int]string {
	if !s.do("UIDL").ok {
		s.t.SkipNow("UIDL not supported")
	}
	body, _ := s.setupMulti("UIDL")
	out := map[int]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(body), "\r\n"), "\r\n") {
		num, id, _ := strings.Cut(l, " ")
		n, err := strconv.Atoi(num)
		if err != nil {
			continue
		}
		out[n] = id
	}
	return out
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

var uidlChecks = []*engine.Check{
	{
		ID: "pop3.uidl.syntax", Title: "Unique-ids are 1 to 70 printable characters (0x21-0x7E)", Spec: "RFC 1939 §7 (UIDL)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, _, nonces := seededSession(ctx, t, "uidl\r\n")
			defer cleanup(ctx, t, nonces)
			defer s.cmd("QUIT")
			for n, id := range s.uidls() {
				if !validUIDL(id) {
					t.FailNow("message %d has the unique-id %q", n, id)
				}
			}
			return nil
		},
	},
	{
		ID: "pop3.uidl.unique", Title: "Unique-ids are unique in the maildrop", Spec: "RFC 1939 §7 (UIDL)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, _, nonces := seededSession(ctx, t, "one\r\n", "two\r\n")
			defer cleanup(ctx, t, nonces)
			defer s.cmd("QUIT")
			seen := map[string]int{}
			for n, id := range s.uidls() {
				if m, dup := seen[id]; dup {
					t.FailNow("messages %d and %d share the unique-id %q", m, n, id)
				}
				seen[id] = n
			}
			return nil
		},
	},
	{
		ID: "pop3.uidl.stable", Title: "A message's unique-id is the same in the next session", Spec: "RFC 1939 §7 (UIDL)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nums, nonces := seededSession(ctx, t, "stable\r\n")
			defer cleanup(ctx, t, nonces)
			first := s.uidls()[nums[0]]
			s.cmd("QUIT")
			s2, nums2 := loginFind(ctx, t, nonces)
			defer s2.cmd("QUIT")
			if again := s2.uidls()[nums2[0]]; again != first {
				t.FailNow("unique-id %q in one session, %q in the next", first, again)
			}
			return nil
		},
	},
}
