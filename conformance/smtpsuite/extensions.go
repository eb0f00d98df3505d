package smtpsuite

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// replySample gathers replies of several classes from one session: 2xx,
// 5xx for an unknown command and a bad sequence.
func replySample(s *session, t *engine.T) ([]*smtpreply.Reply, error) {
	var out []*smtpreply.Reply
	for _, line := range []string{"NOOP", "MAIL FROM:<" + t.Options.From + ">", "RCPT TO:<postmaster>", "RSET", "XYZZY", "RCPT TO:<postmaster>", "VRFY postmaster"} {
		r, err := s.cmd(line)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// enhancedSample is replySample on a server offering ENHANCEDSTATUSCODES;
// nil (and the check skipped) otherwise.
func enhancedSample(ctx context.Context, t *engine.T) ([]*smtpreply.Reply, error) {
	s, err := ehloed(ctx, t)
	if err != nil {
		return nil, err
	}
	if !s.has("ENHANCEDSTATUSCODES") {
		t.Skip("ENHANCEDSTATUSCODES not advertised")
		return nil, nil
	}
	return replySample(s, t)
}

var extensionChecks = []*engine.Check{
	{
		ID: "smtp.enhanced.present", Title: "With ENHANCEDSTATUSCODES, 2xx/4xx/5xx replies carry an enhanced code", Spec: "RFC 2034 §4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			replies, err := enhancedSample(ctx, t)
			if replies == nil || err != nil {
				return err
			}
			for _, r := range replies {
				if r.Code/100 == 3 || r.Enhanced != "" {
					continue
				}
				// An enhanced code elsewhere than at the start of the text
				// is there but malformed, not missing.
				if code := enhancedCodeIn(r.Text()); code != "" {
					t.FailNow("reply %q is malformed: its enhanced status code %s stands after the text; RFC 2034 §4 puts it first, after the reply code", r, code)
				}
				t.FailNow("reply %q has no enhanced status code", r)
			}
			return nil
		},
	},
	{
		ID: "smtp.enhanced.class", Title: "An enhanced code's class matches the reply code", Spec: "RFC 3463 §2, RFC 2034 §4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			replies, err := enhancedSample(ctx, t)
			if replies == nil || err != nil {
				return err
			}
			for _, r := range replies {
				if r.Enhanced != "" && r.Enhanced[0] != fmt.Sprint(r.Code / 100)[0] {
					t.Fail("reply %q: class %c does not match code %d", r, r.Enhanced[0], r.Code)
					return nil
				}
			}
			return nil
		},
	},
	{
		ID: "smtp.smtputf8.implies-8bitmime", Title: "A server offering SMTPUTF8 also offers 8BITMIME", Spec: "RFC 6531 §3.1", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			if !s.has("SMTPUTF8") {
				t.Skip("SMTPUTF8 not advertised")
				return nil
			}
			if !s.has("8BITMIME") {
				t.Fail("SMTPUTF8 advertised without 8BITMIME")
			}
			return nil
		},
	},
	{
		ID: "smtp.ehlo.keywords", Title: "EHLO keywords are well formed", Spec: "RFC 5321 §4.1.1.1 (ehlo-keyword)", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			for kw := range s.ext {
				if !isEHLOKeyword(kw) {
					t.Fail("EHLO keyword %q is not (ALPHA / DIGIT) *(ALPHA / DIGIT / \"-\")", kw)
					return nil
				}
			}
			return nil
		},
	},
}

func isEHLOKeyword(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0) {
			return false
		}
	}
	return s != ""
}

// enhancedCodeIn finds a word of text that is an enhanced status code
// (RFC 3463 §2), or "".
func enhancedCodeIn(text string) string {
	for _, w := range strings.Fields(text) {
		w = strings.Trim(w, "()[]#,;:")
		if isEnhancedPrefix([]byte(w)) {
			return w
		}
	}
	return ""
}
