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
			s, nums, nonces, err := seededSession(ctx, t, "marked\r\n")
			if s == nil || err != nil {
				return err
			}
			defer cleanup(ctx, t, nonces)
			n := strconv.Itoa(nums[0])
			before, _, err := s.stat()
			if err != nil {
				return err
			}
			if _, ok, err := s.want("DELE "+n, true, "DELE of an existing message"); !ok || err != nil {
				return err
			}
			after, _, err := s.stat()
			if err != nil {
				return err
			}
			if after != before-1 {
				t.Fail("STAT counts %d messages after DELE, %d before: a marked message must not be counted", after, before)
				return nil
			}
			if _, ok, err := s.want("LIST "+n, false, "a marked message is not listed"); !ok || err != nil {
				return err
			}
			_, _, err = s.want("RETR "+n, false, "a marked message cannot be retrieved")
			return err
		},
	},
	{
		ID: "pop3.dele.numbers-stable", Title: "Message numbers do not change after DELE", Spec: "RFC 1939 §5 (DELE)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nums, nonces, err := seededSession(ctx, t, "first\r\n", "second\r\n")
			if s == nil || err != nil {
				return err
			}
			defer cleanup(ctx, t, nonces)
			lo, hi := strconv.Itoa(min(nums[0], nums[1])), strconv.Itoa(max(nums[0], nums[1]))
			// The higher-numbered message must keep its number, seen through
			// its unique-id (or its size, without UIDL).
			probe := "UIDL " + hi
			before, err := s.cmd(probe)
			if err != nil {
				return err
			}
			if !positive(before) {
				probe = "LIST " + hi
				if before, err = s.cmd(probe); err != nil {
					return err
				}
			}
			if _, ok, err := s.want("DELE "+lo, true, "DELE"); !ok || err != nil {
				return err
			}
			after, err := s.cmd(probe)
			if err != nil {
				return err
			}
			if before != after {
				t.Fail("%s answered %q before DELE %s and %q after: numbers must not change within a session", probe, before, lo, after)
			}
			return nil
		},
	},
	{
		ID: "pop3.rset.unmarks", Title: "RSET unmarks every message marked deleted", Spec: "RFC 1939 §5 (RSET)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nums, nonces, err := seededSession(ctx, t, "kept by RSET\r\n")
			if s == nil || err != nil {
				return err
			}
			defer cleanup(ctx, t, nonces)
			n := strconv.Itoa(nums[0])
			s.cmd("DELE " + n)
			if _, ok, err := s.want("RSET", true, "RSET"); !ok || err != nil {
				return err
			}
			_, _, err = s.want("LIST "+n, true, "after RSET the message is back")
			s.cmd("QUIT")
			return err
		},
	},
	{
		ID: "pop3.update.drop-keeps", Title: "A connection dropped after DELE deletes nothing", Spec: "RFC 1939 §6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nums, nonces, err := seededSession(ctx, t, "survives a dropped connection\r\n")
			if s == nil || err != nil {
				return err
			}
			defer cleanup(ctx, t, nonces)
			if _, ok, err := s.want("DELE "+strconv.Itoa(nums[0]), true, "DELE"); !ok || err != nil {
				return err
			}
			s.c.Close() // no QUIT: the session never enters UPDATE
			found, err := nextSession(ctx, t, nonces)
			if found == nil || err != nil {
				return err
			}
			if found[0] == 0 {
				t.Fail("the message marked in a session that ended without QUIT was deleted")
			}
			return nil
		},
	},
	{
		ID: "pop3.update.quit-deletes", Title: "DELE then QUIT removes exactly the marked messages", Spec: "RFC 1939 §6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return deleteAndCheck(ctx, t, false)
		},
	},
	{
		ID: "pop3.mode.download-and-delete", Title: "Download-and-delete: RETR, DELE, QUIT; the message is gone next session", Spec: "RFC 1939 §5, §6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			return deleteAndCheck(ctx, t, true)
		},
	},
	{
		ID: "pop3.mode.download-and-keep", Title: "Download-and-keep: RETR, QUIT; the message is still there next session", Spec: "RFC 1939 §5, §6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nums, nonces, err := seededSession(ctx, t, "kept\r\n")
			if s == nil || err != nil {
				return err
			}
			defer cleanup(ctx, t, nonces)
			if _, ok, err := s.want("RETR "+strconv.Itoa(nums[0]), true, "RETR"); !ok || err != nil {
				return err
			}
			if _, _, err := s.multi(); err != nil {
				return err
			}
			s.cmd("QUIT")
			found, err := nextSession(ctx, t, nonces)
			if found == nil || err != nil {
				return err
			}
			if found[0] == 0 {
				t.Fail("a message retrieved without DELE was gone in the next session")
			}
			return nil
		},
	},
}

// deleteAndCheck marks the first of two seeded messages (retrieving it
// first when retr is set), QUITs, and checks that exactly it is gone.
func deleteAndCheck(ctx context.Context, t *engine.T, retr bool) error {
	s, nums, nonces, err := seededSession(ctx, t, "deleted\r\n", "kept\r\n")
	if s == nil || err != nil {
		return err
	}
	defer cleanup(ctx, t, nonces)
	n := strconv.Itoa(nums[0])
	if retr {
		if _, ok, err := s.want("RETR "+n, true, "RETR"); !ok || err != nil {
			return err
		}
		if _, _, err := s.multi(); err != nil {
			return err
		}
	}
	if _, ok, err := s.want("DELE "+n, true, "DELE"); !ok || err != nil {
		return err
	}
	if _, ok, err := s.want("QUIT", true, "QUIT enters UPDATE and removes the marked messages"); !ok || err != nil {
		return err
	}
	s.c.Close()
	found, err := nextSession(ctx, t, nonces)
	if found == nil || err != nil {
		return err
	}
	switch {
	case found[0] != 0:
		t.Fail("the message marked with DELE is still there after QUIT")
	case found[1] == 0:
		t.Fail("QUIT removed a message that was not marked")
	}
	return nil
}

// nextSession logs in anew and returns the message numbers of the nonces
// there (0 for one gone); nil when the check was skipped.
func nextSession(ctx context.Context, t *engine.T, nonces []string) ([]int, error) {
	again, err := login(ctx, t)
	if again == nil || err != nil {
		return nil, err
	}
	defer again.cmd("QUIT")
	return again.find(nonces)
}
