package smtpsuite

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/internal/smtpwire"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// commandLineLimit is the command line length every server must accept,
// CRLF included (RFC 5321 §4.5.3.1.4).
const commandLineLimit = 512

// lineCarrier picks a command whose argument any length up to the limit
// must be taken the same way: NOOP (its argument is ignored, §4.1.1.9),
// else VRFY or HELP (any string is a question the server answers,
// §4.1.1.6, §4.1.1.8). Each is tried short first; the first that is not
// refused as a syntax error or unimplemented carries the long line. None
// is a precondition: the line length cannot be observed.
func lineCarrier(t *engine.T, s *session) (verb string, short *smtpreply.Reply) {
	var tried []string
	for _, verb := range []string{"NOOP", "VRFY", "HELP"} {
		r := s.send(verb + " x")
		if r.Code < 500 || r.Code > 504 {
			return verb, r
		}
		tried = append(tried, fmt.Sprintf("%s x: %s", verb, s.describe(r)))
	}
	t.Precondition("no command took a short argument to carry a long line (%s)", strings.Join(tried, "; "))
	return "", nil
}

var limitChecks = []*engine.Check{
	{
		ID: "smtp.limit.command-line-512", Title: "A 512-octet command line is accepted", Spec: "RFC 5321 §4.5.3.1, §4.5.3.1.4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s := open(ctx, t)
			verb, short := lineCarrier(t, s)
			line := verb + " " + strings.Repeat("x", commandLineLimit-len(verb)-len(" ")-len("\r\n"))
			// Only the length differs from the short form the server
			// took: a 500 ("line too long", §4.2.2) or a 501 now is the
			// length refused.
			if r := s.send(line); r.Code != short.Code && (r.Code == 500 || r.Code == 501) {
				t.FailNow("a %s command line of exactly %d octets (CRLF included) got %s; the same command with a short argument got %s", verb, commandLineLimit, s.describe(r), s.describe(short))
			}
			return nil
		},
	},
	{
		ID: "smtp.limit.text-line-1000", Title: "A 1000-octet text line in DATA is accepted", Spec: "RFC 5321 §4.5.3.1, §4.5.3.1.6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			if !needRcpt(t) {
				return nil
			}
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			msg := testMessage(t, "text-line-1000", nonce(), strings.Repeat("y", 998)+"\r\n")
			r, ok, err := s.transaction("", smtpwire.AppendDotStuffed(nil, []byte(msg)), "sending the test message")
			if !ok || err != nil {
				return err
			}
			if r.Code != 250 {
				t.Fail("a message with a text line of exactly 1000 octets (CRLF included) got %s", r)
			}
			return nil
		},
	},
	{
		ID: "smtp.size.syntax", Title: "The SIZE keyword's parameter is a number", Spec: "RFC 1870 §4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			param, ok := s.ext["SIZE"]
			if !ok {
				t.Skip("SIZE not advertised")
				return nil
			}
			if _, err := strconv.ParseUint(param, 10, 64); param != "" && err != nil {
				t.Fail("EHLO says %q: the parameter must be a decimal number of octets", "SIZE "+param)
			}
			return nil
		},
	},
	{
		ID: "smtp.size.enforced", Title: "MAIL with SIZE= over the advertised limit gets 552", Spec: "RFC 1870 §6", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			param, ok := s.ext["SIZE"]
			limit, perr := strconv.ParseUint(param, 10, 64)
			switch {
			case !ok:
				t.Skip("SIZE not advertised")
				return nil
			case perr != nil || limit == 0:
				t.Skip("SIZE advertised without a fixed limit (%q)", param)
				return nil
			}
			s.expect("MAIL FROM:<"+t.Options.From+"> SIZE="+strconv.FormatUint(limit+1, 10), "a declared size over the advertised maximum", 552)
			return nil
		},
	},
	{
		ID: "smtp.limit.recipients-100", Title: "100 recipients are accepted (or 452 only beyond the limit)", Spec: "RFC 5321 §4.5.3.1.8, §4.5.3.1.10", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			// The first recipient is the setup: --rcpt accepted once.
			s := openRecipient(ctx, t)
			defer s.cmd("RSET") // no DATA: nothing is delivered
			for i := 2; i <= 100; i++ {
				if r := s.send(rcptCommand(t)); r.Code != 250 && r.Code != 251 {
					t.FailNow("recipient %d of 100 got %s; a server must take at least 100", i, s.describe(r))
				}
			}
			if r := s.send(rcptCommand(t)); r.Code != 250 && r.Code != 251 && r.Code != 452 {
				t.FailNow("recipient 101 got %s; beyond its limit a server answers 452", s.describe(r))
			}
			return nil
		},
	},
}
