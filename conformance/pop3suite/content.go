package pop3suite

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

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
			s, nums, nonces := seededSession(ctx, t, "one\r\ntwo\r\nthree\r\nfour\r\n")
			defer cleanup(ctx, t, nonces)
			top := "TOP " + strconv.Itoa(nums[0]) + " 2"
			s.expect(top, true, "TOP of an existing message")
			got, _, err := s.multi()
			if errors.Is(err, errUnterminated) {
				t.FailNow("%s: %v", top, err)
			}
			t.Require(err)
			_, body, found := bytes.Cut(got, []byte("\r\n\r\n"))
			if !found || string(body) != "one\r\ntwo\r\n" {
				t.FailNow("TOP n 2 sent the body %q, want the first 2 lines %q", body, "one\r\ntwo\r\n")
			}
			return nil
		},
	},
}

// stuffingCheck judges only the stuffing: the lines ".", "..", ".x" of the
// message must arrive as "..", "...", "..x" and the response go on past
// them. What else the server does to the message (a line added at the
// end, say) is for pop3.list.matches-retr and the end-to-end checks.
func stuffingCheck(ctx context.Context, t *engine.T, format string) error {
	s, nums, nonces := seededSession(ctx, t, dotBody)
	defer cleanup(ctx, t, nonces)
	cmd := strings.Replace(format, "%d", strconv.Itoa(nums[0]), 1)
	s.expect(cmd, true, "an existing message")
	body, raw, err := s.multi()
	if errors.Is(err, errUnterminated) {
		t.FailNow("%s: the response ended early or never: a line \".\" in the message was not byte-stuffed", cmd)
	}
	t.Require(err)
	if bytes.Contains(raw, []byte("\r\n..\r\n...\r\n..x\r\nlast\r\n")) && bytes.Contains(body, []byte("\r\n"+dotBody)) {
		return nil
	}
	// A line "." sent unstuffed ends the response early: what follows it
	// arrives after the "end".
	after, err := s.c.Quiet(300 * time.Millisecond)
	t.Require(err)
	if len(after) > 0 {
		t.FailNow("%s: the response went on after its terminating \".\" line (%q followed): a line \".\" of the message was not byte-stuffed", cmd, tail(after))
	}
	if line := unstuffedLine(raw); line != "" {
		t.FailNow("%s: lines starting with \".\" were not byte-stuffed: the line %q went out as it is (the message lines \".\", \"..\", \".x\" arrived as %q)", cmd, line, tail(raw))
	}
	// Every line starting with "." went out stuffed, yet the dot lines are
	// not the ones delivered: the message was changed before POP3 served
	// it (SMTP kept the stuffed dots, or ended DATA early).
	t.Precondition("%s: every line starting with \".\" is byte-stuffed, but the seeded message's dot lines arrived as %q: the message was altered on its way in (see smtp.data.transparency and smtp.data.dot-termination)", cmd, tail(raw))
	return nil
}

// unstuffedLine returns the first line of a multi-line response, its
// terminating "." aside, that starts with "." and not "..": a line that was
// not byte-stuffed (RFC 1939 §3); "" when every such line was.
func unstuffedLine(raw []byte) string {
	lines := bytes.Split(bytes.TrimSuffix(raw, []byte(".\r\n")), []byte("\r\n"))
	for _, l := range lines {
		if bytes.HasPrefix(l, []byte(".")) && !bytes.HasPrefix(l, []byte("..")) {
			return string(l)
		}
	}
	return ""
}

func tail(b []byte) string {
	lines := strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "⏎")
}
