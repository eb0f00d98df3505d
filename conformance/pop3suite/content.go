package pop3suite

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// dotBody holds the lines that byte-stuffing exists for.
const dotBody = ".\r\n..\r\n.x\r\nlast\r\n"

var contentChecks = []*engine.Check{
	{
		ID: "pop3.retr.byte-stuffing", Title: "RETR byte-stuffs lines starting with \".\"", Spec: "RFC 1939 §3", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error { return stuffingCheck(ctx, t, "RETR %d") },
	},
	{
		ID: "pop3.top.byte-stuffing", Title: "TOP byte-stuffs lines starting with \".\"", Spec: "RFC 1939 §3, §7 (TOP)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error { return stuffingCheck(ctx, t, "TOP %d 10") },
	},
	{
		ID: "pop3.top.lines", Title: "TOP n k sends the header, the blank line and k body lines", Spec: "RFC 1939 §7 (TOP)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, nums, nonces, err := seededSession(ctx, t, "one\r\ntwo\r\nthree\r\nfour\r\n")
			if s == nil || err != nil {
				return err
			}
			defer cleanup(ctx, t, nonces)
			if _, ok, err := s.want("TOP "+strconv.Itoa(nums[0])+" 2", true, "TOP of an existing message"); !ok || err != nil {
				return err
			}
			got, _, err := s.multi()
			if err != nil {
				return err
			}
			_, body, found := bytes.Cut(got, []byte("\r\n\r\n"))
			if !found || string(body) != "one\r\ntwo\r\n" {
				t.Fail("TOP n 2 sent the body %q, want the first 2 lines %q", body, "one\r\ntwo\r\n")
			}
			return nil
		},
	},
}

func stuffingCheck(ctx context.Context, t *engine.T, format string) error {
	s, nums, nonces, err := seededSession(ctx, t, dotBody)
	if s == nil || err != nil {
		return err
	}
	defer cleanup(ctx, t, nonces)
	cmd := strings.Replace(format, "%d", strconv.Itoa(nums[0]), 1)
	if _, ok, err := s.want(cmd, true, "an existing message"); !ok || err != nil {
		return err
	}
	body, raw, err := s.multi()
	if err != nil {
		if err == errUnterminated {
			t.Fail("%s: the response ended early or never: a line \".\" in the message was not byte-stuffed", cmd)
			return nil
		}
		return err
	}
	if !bytes.HasSuffix(raw, []byte("\r\n..\r\n...\r\n..x\r\nlast\r\n.\r\n")) || !bytes.HasSuffix(body, []byte("\r\n"+dotBody)) {
		t.Fail("%s: lines starting with \".\" were not byte-stuffed: the message lines \".\", \"..\", \".x\" arrived as %q", cmd, tail(raw))
	}
	return nil
}

func tail(b []byte) string {
	lines := strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "⏎")
}
