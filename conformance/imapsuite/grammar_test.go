package imapsuite

import (
	"strings"
	"testing"
)

// splitLine cuts a response as read() does: tag, then the text after one
// space.
func splitLine(line string) (string, string) {
	tag, text, _ := strings.Cut(line, " ")
	return tag, text
}

func TestMalformationAcceptsWellFormedResponses(t *testing.T) {
	for _, tc := range []struct {
		line string
		lits []string
	}{
		{line: "* OK [CAPABILITY IMAP4rev1 IMAP4rev2 AUTH=PLAIN] ready"},
		{line: "* OK IMAP4rev2 Service Ready"},
		{line: "* PREAUTH [CAPABILITY IMAP4rev2] welcome"},
		{line: "* BYE logging out"},
		{line: "* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN LOGINDISABLED"},
		{line: "mc1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in"},
		{line: "mc2 NO [TRYCREATE] Mailbox does not exist"},
		{line: "mc3 BAD Error in IMAP command: unknown command"},
		{line: "mc4 OK [READ-WRITE] SELECT completed"},
		{line: "mc4 OK "},
		{line: "* OK [UIDNEXT 5] Predicted next UID"},
		{line: "* OK [UIDVALIDITY 1700000000]"},
		{line: `* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work \*)] Flags permitted.`},
		{line: "* OK [HIGHESTMODSEQ 12] Highest"},
		{line: "mc5 OK [APPENDUID 38505 3955] APPEND completed"},
		{line: "mc6 OK [COPYUID 38505 304,319:320 3956:3958] Done"},
		{line: `* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`},
		{line: "* 3 EXISTS"},
		{line: "* 0 EXISTS"},
		{line: "* 1 RECENT"},
		{line: "* 2 EXPUNGE"},
		{line: `* 1 FETCH (UID 7 FLAGS (\Seen \Recent) RFC822.SIZE 44)`},
		{line: "* 1 FETCH (BODY[] {5})", lits: []string{"hello"}},
		{line: "* 1 FETCH (RFC822.SIZE 5 BODY[] ~{5})", lits: []string{"he\x00lo"}},
		{line: `* 1 FETCH (BODY[HEADER.FIELDS (X-Mailcheck-Nonce)] {2} UID 3)`, lits: []string{"\r\n"}},
		{line: `* 1 FETCH (BODY[]<0> "abc" FLAGS ())`},
		{line: `* 1 FETCH (ENVELOPE ("date" "subj" (("A" NIL "a" "b.c")) NIL NIL NIL NIL NIL NIL "<id>"))`},
		{line: `* LIST (\HasNoChildren) "." INBOX.mailcheck-1f`},
		{line: `* LIST (\Noselect) "/" ""`},
		{line: `* LIST () NIL "Sent Items"`},
		{line: `* LIST (\Marked) "." {4}`, lits: []string{"a b "}},
		{line: `* LSUB () "." foo`},
		{line: `* STATUS mailcheck-1 (MESSAGES 2 UIDNEXT 3 UIDVALIDITY 4)`},
		{line: `* STATUS "with space" ()`},
		{line: "* SEARCH"},
		{line: "* SEARCH 2 3 6"},
		{line: "* SEARCH 2 (MODSEQ 917162500)"},
		{line: `* NAMESPACE (("" "/")) NIL NIL`},
		{line: `* NAMESPACE (("INBOX." ".")) (("#shared." ".")("#public." ".")) NIL`},
		{line: `* NAMESPACE (("" "/" "X-PARAM" ("FLAG1" "FLAG2"))) NIL NIL`},
		{line: "* ENABLED CONDSTORE"},
		{line: `* ESEARCH (TAG "mc4") UID MIN 2 MAX 9`},
		{line: `* ID ("name" "Dovecot")`},
		{line: "+ Ready for literal data"},
		{line: "+ "},
		{line: "+ dGVzdA=="},
	} {
		tag, text := splitLine(tc.line)
		var lits [][]byte
		for _, l := range tc.lits {
			lits = append(lits, []byte(l))
		}
		if m := malformation(tag, text, lits); m != "" {
			t.Errorf("%q: %s", tc.line, m)
		}
	}
}

func TestMalformationNamesTheRule(t *testing.T) {
	for _, tc := range []struct {
		line, rule string
		lits       []string
	}{
		{line: "mc2 NO APPEND [TRYCREATE] failed", rule: "directly after the status word"},
		{line: "* OK Ready [CAPABILITY IMAP4rev1]", rule: "directly after the status word"},
		{line: "* 2 EXPUNGED", rule: "message-data"},
		{line: "* 0 EXPUNGE", rule: "message-data"},
		{line: "* 2 FETCH UID 3", rule: "msg-att"},
		{line: "* 2 FETCH (UID)", rule: "msg-att"},
		{line: "* 2 FETCH (UID x)", rule: "uniqueid"},
		{line: "* 2 FETCH (UID 3", rule: "msg-att"},
		{line: "* 2 FETCH (BODY[] {5})", rule: "well-formed value", lits: []string{"four"}},
		{line: `* 1 FETCH (BODY[] "abc)`, rule: "well-formed value"},
		{line: `* FLAGS (\Seen`, rule: "flag-list"},
		{line: `* FLAGS \Seen`, rule: "flag-list"},
		{line: "* EXIST 3", rule: "response-data"},
		{line: "* HELLO there", rule: "response-data"},
		{line: "* OK", rule: "response-data"},
		{line: "mc1 OKAY done", rule: "response-tagged"},
		{line: "mc1 BYE done", rule: "response-tagged"},
		{line: "mc1 OK", rule: "resp-cond-state"},
		{line: "mc1 OK [UIDNEXT] x", rule: "resp-text-code"},
		{line: "mc1 OK [UIDNEXT 0] x", rule: "nz-number"},
		{line: "mc1 OK [UIDVALIDITY abc] x", rule: "nz-number"},
		{line: "mc1 OK [READ-WRITE x", rule: "resp-text-code"},
		{line: "mc1 OK [READ-WRITE]SELECT done", rule: "resp-text"},
		{line: `m"c OK done`, rule: "tag ="},
		{line: `* LIST (\Noselect) "//" foo`, rule: "mailbox-list"},
		{line: `* LIST (\Noselect) "/"`, rule: "mailbox-list"},
		{line: `* STATUS box (MESSAGES)`, rule: "STATUS"},
		{line: `* STATUS box (MESSAGES x)`, rule: "STATUS"},
		{line: "* SEARCH 1 x", rule: "SEARCH"},
		{line: "* SEARCH 0", rule: "SEARCH"},
		{line: `* NAMESPACE (("" "/")) NIL`, rule: "namespace-response"},
		{line: `* NAMESPACE "" NIL NIL`, rule: "namespace-response"},
		{line: "* CAPABILITY IMAP4rev1 (X)", rule: "capability"},
		{line: "* 3 EXISTS now", rule: "text left over"},
		{line: "+ [ALERT", rule: "resp-text-code"},
	} {
		tag, text := splitLine(tc.line)
		var lits [][]byte
		for _, l := range tc.lits {
			lits = append(lits, []byte(l))
		}
		m := malformation(tag, text, lits)
		if m == "" {
			t.Errorf("%q: taken as well formed", tc.line)
		} else if !strings.Contains(m, tc.rule) {
			t.Errorf("%q: %s; want the rule naming %q", tc.line, m, tc.rule)
		}
	}
}

// FuzzMalformation: any input gives a verdict without panicking, and the
// same verdict twice.
func FuzzMalformation(f *testing.F) {
	for _, seed := range []string{
		"* OK [CAPABILITY IMAP4rev2] ready", "mc2 NO APPEND [TRYCREATE] failed", "* 2 EXPUNGED",
		`* 1 FETCH (BODY[HEADER.FIELDS (A)] {2} UID 3)`, `* NAMESPACE (("INBOX." ".")) NIL NIL`,
		`* LIST (\HasNoChildren) "." INBOX`, "+ ", "* 1 FETCH (BODY[] ~{", "mc1 OK [", "* STATUS {",
	} {
		f.Add(seed, "ab")
	}
	f.Fuzz(func(t *testing.T, line, lit string) {
		tag, text := splitLine(line)
		lits := [][]byte{[]byte(lit)}
		if a, b := malformation(tag, text, lits), malformation(tag, text, lits); a != b {
			t.Fatalf("%q: %q, then %q", line, a, b)
		}
	})
}
