package smtpsuite

import (
	"strings"
	"testing"
)

func TestFlawIn(t *testing.T) {
	for _, c := range []struct {
		name     string
		reply    string
		enhanced bool
		rule     string // "" for a well-formed reply
	}{
		{"one line", "250 OK\r\n", false, ""},
		{"code alone", "250\r\n", false, ""},
		{"empty text after SP", "250 \r\n", false, ""},
		{"multi-line", "250-mail.example\r\n250-PIPELINING\r\n250 HELP\r\n", false, ""},
		{"empty continuation", "250-\r\n250 OK\r\n", false, ""},
		{"enhanced", "550 5.1.1 no such user\r\n", true, ""},
		{"IPv4 first word", "250 10.0.0.1 hello\r\n", true, ""},
		{"number first word", "250 3.5 seconds\r\n", true, ""},
		{"bare LF", "250 OK\n", false, ruleCRLF},
		{"code out of range", "199 OK\r\n", false, ruleCode},
		{"letters for a code", "OK 250\r\n", false, ruleCode},
		{"other code inside", "250-a\r\n251 b\r\n", false, ruleSameCode},
		{"no separator", "250OK\r\n", false, ruleSeparator},
		{"control octet", "250 O\x01K\r\n", false, ruleText},
		{"8-bit without SMTPUTF8", "250 caf\xc3\xa9\r\n", false, ruleText},
		{"enhanced class 1", "550 1.1.1 no\r\n", true, ruleEnhanced},
		{"enhanced subject too long", "550 5.1234.1 no\r\n", true, ruleEnhanced},
	} {
		t.Run(c.name, func(t *testing.T) {
			var lines [][]byte
			for _, l := range strings.SplitAfter(c.reply, "\n") {
				if l != "" {
					lines = append(lines, []byte(l))
				}
			}
			flaw := flawIn(lines, c.enhanced, false)
			switch {
			case c.rule == "" && flaw != nil:
				t.Errorf("%q: %s, want well formed", c.reply, flaw)
			case c.rule != "" && (flaw == nil || flaw.rule != c.rule):
				t.Errorf("%q: %v, want a flaw against %s", c.reply, flaw, c.rule)
			}
		})
	}
}
