package imapbackend

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseAddressList(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// A group keeps its markers (RFC 9051 §7.5.2).
		{"group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;",
			`[{ group } { g1 d1.org} { g2 d2.org} {  } { group2 } { g3 d3.org} {  }]`},
		{"group:;, group2: (foo) ;", `[{ group } {  } { group2 } {  }]`},
		// Comments around the parts of an addr-spec (RFC 5322 §4.4).
		{"<user-from (comment)@ (comment) domain.org>", `[{ user-from domain.org}]`},
		// A trailing comment names a bare address.
		{"user@domain (Real Name)", `[{Real Name user domain}]`},
		{`"Real, Name" <a@b>, =?utf-8?q?J=C3=B6rg?= <c@d>`, `[{Real, Name a b} {Jörg c d}]`},
		// A source route is read apart.
		{"<@route:user@domain>", `[{ user domain}]`},
		{"", `[]`},
	} {
		if got := fmt.Sprint(imapAddresses(parseAddressList(tc.in))); got != tc.want {
			t.Errorf("parseAddressList(%q)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

// TestEnvelopeKeepsTheRoute: a source route is the address's ADL (RFC
// 9051 §7.5.2), written by the backend as go-imap's Address has no field
// for it.
func TestEnvelopeKeepsTheRoute(t *testing.T) {
	if got := parseAddressList("<@a.org, @b.org:user@domain>"); len(got) != 1 || got[0].Route != "@a.org,@b.org" {
		t.Errorf("route of <@a.org, @b.org:user@domain>: %+v", got)
	}
	ts := startIMAP(t, t.TempDir())
	ts.deliver("bob", "From: <@route:user@domain>\r\nSubject: hi\r\n\r\nbody\r\n")
	rc := ts.raw("bob")
	rc.cmd("s SELECT INBOX")
	want := `* 1 FETCH (UID 1 ENVELOPE (NIL "hi" ((NIL "@route" "user" "domain")) ((NIL "@route" "user" "domain")) ((NIL "@route" "user" "domain")) NIL NIL NIL NIL NIL))`
	if out := rc.cmd("e UID FETCH 1 ENVELOPE"); !strings.Contains(out, want) {
		t.Errorf("ENVELOPE of a source-routed From:\n%s\nwant %s", out, want)
	}
}

// TestSearchAddressReadsTheEnvelope: SEARCH FROM matches the envelope's
// FROM field (RFC 9051 §6.4.4), not only the raw header text.
func TestSearchAddressReadsTheEnvelope(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	ts.deliver("bob", "From: <user-from (comment)@ (comment) domain.org>\r\nTo: team: x@y.org;\r\n\r\nbody\r\n")
	rc := ts.raw("bob")
	rc.cmd("s SELECT INBOX")
	if out := rc.cmd("f SEARCH FROM user-from@domain.org"); !strings.Contains(out, "* SEARCH 1\r\n") {
		t.Errorf("SEARCH FROM the address a comment splits:\n%s", out)
	}
	if out := rc.cmd("e FETCH 1 ENVELOPE"); !strings.Contains(out, `((NIL NIL "team" NIL) (NIL NIL "x" "y.org") (NIL NIL NIL NIL))`) {
		t.Errorf("ENVELOPE flattens the group:\n%s", out)
	}
}
