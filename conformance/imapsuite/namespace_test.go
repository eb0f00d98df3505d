package imapsuite

import "testing"

func TestParsePersonal(t *testing.T) {
	for _, tc := range []struct {
		text   string
		lits   []string
		want   namespace
		wantOK bool
	}{
		{text: `NAMESPACE (("" "/")) NIL NIL`, want: namespace{"", "/"}, wantOK: true},
		{text: `NAMESPACE (("INBOX." ".")) NIL NIL`, want: namespace{"INBOX.", "."}, wantOK: true},
		{text: `NAMESPACE (("INBOX." ".")("#mh/" "/")) (("#shared." ".")) NIL`, want: namespace{"INBOX.", "."}, wantOK: true},
		{text: `NAMESPACE (("" NIL)) NIL NIL`, want: namespace{"", ""}, wantOK: true},
		{text: `NAMESPACE (({6} ".")) NIL NIL`, lits: []string{"Mail. "}, want: namespace{"Mail. ", "."}, wantOK: true},
		{text: `NAMESPACE (("a\"b." ".")) NIL NIL`, want: namespace{`a"b.`, "."}, wantOK: true},
		{text: `NAMESPACE NIL NIL NIL`},
		{text: `NAMESPACE (INBOX .) NIL NIL`},
		{text: `NAMESPACE`},
	} {
		var lits [][]byte
		for _, l := range tc.lits {
			lits = append(lits, []byte(l))
		}
		got, ok := parsePersonal(&response{Tag: "*", Text: tc.text, Lits: lits})
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("%s: %+v %v, want %+v %v", tc.text, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestListDelimiter(t *testing.T) {
	for text, want := range map[string]string{
		`LIST (\Noselect) "/" ""`:  "/",
		`LIST (\Noselect) "." ""`:  ".",
		`LIST () NIL ""`:           "",
		`LIST (\Noselect) "\\" ""`: `\`,
		`LIST garbage`:             "",
	} {
		if got := listDelimiter(&response{Tag: "*", Text: text}); got != want {
			t.Errorf("%s: %q, want %q", text, got, want)
		}
	}
}

func TestMailboxNameInPersonalNamespace(t *testing.T) {
	for _, tc := range []struct {
		ns         namespace
		leaf, want string
	}{
		{namespace{"", "."}, "mailcheck-1f", "mailcheck-1f"},
		{namespace{"INBOX.", "."}, "mailcheck-1f", "INBOX.mailcheck-1f"},
		{namespace{"", "-"}, "mailcheck-1f", "mailcheck_1f"},
		{namespace{"Mail box/", "/"}, "mailcheck-1f", `"Mail box/mailcheck-1f"`},
		{namespace{"", ""}, "mailcheck-1f", "mailcheck-1f"},
	} {
		s := &session{ns: &tc.ns}
		if got := s.mailboxName(tc.leaf); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.ns, got, tc.want)
		}
	}
}
