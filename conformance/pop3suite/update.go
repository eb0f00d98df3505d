package pop3suite

import (
	"context"
	"strconv"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

var updateChecks = []*engine.Check{
	{
		ID: "pop3.dele.marks", Title: "After DELE the message is gone from STAT and LIST and RETR refuses it", Spec: "RFC 1939 §5 (DELE)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nums, nonces := seededSession(ctx, t, "marked\r\n")
			defer cleanup(ctx, t, nonces)
			n := strconv.Itoa(nums[0])
			before, _ := s.stat()
			s.expect("DELE "+n, true, "DELE of an existing message")
			if after, _ := s.stat(); after != before-1 {
				t.FailNow("STAT counts %d messages after DELE, %d before: a marked message must not be counted", after, before)
			}
			s.expect("LIST "+n, false, "a marked message is not listed")
			s.expect("RETR "+n, false, "a marked message cannot be retrieved")
			return nil
		},
	},
	{
		ID: "pop3.dele.numbers-stable", Title: "Message numbers do not change after DELE", Spec: "RFC 1939 §5 (DELE)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nums, nonces := seededSession(ctx, t, "first\r\n", "second\r\n")
			defer cleanup(ctx, t, nonces)
			lo, hi := strconv.Itoa(min(nums[0], nums[1])), strconv.Itoa(max(nums[0], nums[1]))
			// The higher-numbered message must keep its number, seen through
			// its unique-id (or its size, without UIDL).
			probe := "UIDL " + hi
			before := s.do(probe)
			if !before.ok {
				probe = "LIST " + hi
				before = s.setup(probe)
			}
			s.setup("DELE " + lo)
			if after := s.do(probe); before.line != after.line {
				t.FailNow("%s answered %q before DELE %s and %q after: numbers must not change within a session", probe, before.line, lo, after.line)
			}
			return nil
		},
	},
	{
		ID: "pop3.rset.unmarks", Title: "RSET unmarks every message marked deleted", Spec: "RFC 1939 §5 (RSET)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nums, nonces := seededSession(ctx, t, "kept by RSET\r\n")
			defer cleanup(ctx, t, nonces)
			n := strconv.Itoa(nums[0])
			s.setup("DELE " + n)
			s.expect("RSET", true, "RSET")
			if back := s.do("LIST " + n); !back.ok {
				// A message removed at DELE cannot come back: that is
				// pop3.update.drop-keeps' fault, seen in a new session
				// after one that ended without QUIT.
				s.c.Close()
				if nextSession(ctx, t, nonces)[0] == 0 {
					t.Precondition("the message was removed at DELE, not marked (see pop3.update.drop-keeps)")
				}
				t.FailNow("after RSET the message is back: %q got %q, want +OK", "LIST "+n, back.line)
			}
			s.cmd("QUIT")
			return nil
		},
	},
	{
		ID: "pop3.update.drop-keeps", Title: "A connection dropped after DELE deletes nothing", Spec: "RFC 1939 §6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nums, nonces := seededSession(ctx, t, "survives a dropped connection\r\n")
			defer cleanup(ctx, t, nonces)
			s.setup("DELE " + strconv.Itoa(nums[0]))
			s.c.Close() // no QUIT: the session never enters UPDATE
			if nextSession(ctx, t, nonces)[0] == 0 {
				t.FailNow("the message marked in a session that ended without QUIT was deleted")
			}
			return nil
		},
	},
	{
		ID: "pop3.update.quit-deletes", Title: "DELE then QUIT removes exactly the marked messages", Spec: "RFC 1939 §6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			deleteAndCheck(ctx, t, false)
			return nil
		},
	},
	{
		ID: "pop3.mode.download-and-delete", Title: "Download-and-delete: RETR, DELE, QUIT; the message is gone next session", Spec: "RFC 1939 §5, §6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			deleteAndCheck(ctx, t, true)
			return nil
		},
	},
	{
		ID: "pop3.mode.download-and-keep", Title: "Download-and-keep: RETR, QUIT; the message is still there next session", Spec: "RFC 1939 §5, §6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nums, nonces := seededSession(ctx, t, "kept\r\n")
			defer cleanup(ctx, t, nonces)
			s.fetch("RETR " + strconv.Itoa(nums[0]))
			s.cmd("QUIT")
			if nextSession(ctx, t, nonces)[0] == 0 {
				t.FailNow("a message retrieved without DELE was gone in the next session")
			}
			return nil
		},
	},
}

// deleteAndCheck marks the first of two seeded messages (retrieving it
// first when retr is set), QUITs, and checks that exactly it is gone.
func deleteAndCheck(ctx context.Context, t *engine.T, retr bool) {
	s, nums, nonces := seededSession(ctx, t, "deleted\r\n", "kept\r\n")
	defer cleanup(ctx, t, nonces)
	n := strconv.Itoa(nums[0])
	if retr {
		s.fetch("RETR " + n)
	}
	s.setup("DELE " + n)
	s.expect("QUIT", true, "QUIT enters UPDATE and removes the marked messages")
	s.c.Close()
	found := nextSession(ctx, t, nonces)
	switch {
	case found[0] != 0:
		t.FailNow("the message marked with DELE is still there after QUIT")
	case found[1] == 0:
		t.FailNow("QUIT removed a message that was not marked")
	}
}

// nextSession logs in anew and returns the message numbers of the nonces
// there (0 for one gone).
func nextSession(ctx context.Context, t *engine.T, nonces []string) []int {
	again := login(ctx, t)
	defer again.cmd("QUIT")
	found, err := again.find(nonces)
	t.Require(err)
	return found
}
