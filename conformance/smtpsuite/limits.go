package smtpsuite

import (
	"context"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/internal/smtpwire"
)

var limitChecks = []*engine.Check{
	{
		ID: "smtp.limit.command-line-512", Title: "A 512-octet command line is accepted", Spec: "RFC 5321 §4.5.3.1, §4.5.3.1.4", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			s, err := ehloed(ctx, t)
			if err != nil {
				return err
			}
			// NOOP's argument is ignored (§4.1.1.9): only the length is tested.
			line := "NOOP " + strings.Repeat("x", 512-len("NOOP ")-2)
			r, err := s.cmd(line)
			if err != nil {
				return err
			}
			if r.Code == 500 {
				t.Fail("a command line of exactly 512 octets (CRLF included) got %s", r)
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
			_, _, err = s.want("MAIL FROM:<"+t.Options.From+"> SIZE="+strconv.FormatUint(limit+1, 10), "a declared size over the advertised maximum", 552)
			return err
		},
	},
	{
		ID: "smtp.limit.recipients-100", Title: "100 recipients are accepted (or 452 only beyond the limit)", Spec: "RFC 5321 §4.5.3.1.8, §4.5.3.1.10", Level: engine.Must,
		Run: func(ctx context.Context, t *engine.T) error {
			if !needRcpt(t) {
				return nil
			}
			s, err := mailed(ctx, t)
			if s == nil || err != nil {
				return err
			}
			for i := 1; i <= 100; i++ {
				r, err := s.cmd("RCPT TO:<" + t.Options.Rcpt + ">")
				if err != nil {
					return err
				}
				if r.Code != 250 && r.Code != 251 {
					t.Fail("recipient %d of 100 got %s; a server must take at least 100", i, r)
					return nil
				}
			}
			r, err := s.cmd("RCPT TO:<" + t.Options.Rcpt + ">")
			if err != nil {
				return err
			}
			if r.Code != 250 && r.Code != 251 && r.Code != 452 {
				t.Fail("recipient 101 got %s; beyond its limit a server answers 452", r)
			}
			s.cmd("RSET")
			return nil
		},
	},
}
