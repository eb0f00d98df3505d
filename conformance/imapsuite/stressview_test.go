package imapsuite

import (
	"strings"
	"testing"
)

// step is one event a session sees: a command it sends (cmd), an
// untagged response (untagged), or its command's completion (done).
type step struct{ cmd, untagged, done string }

// TestStressViewJudges feeds a session's view scripted exchanges and
// checks which contradiction, if any, it finds: each rule of the
// concurrency checks against the response that breaks it, and the same
// exchanges without the break.
func TestStressViewJudges(t *testing.T) {
	known := []step{{untagged: "3 EXISTS"}, {untagged: "1 FETCH (UID 4 FLAGS ())"}, {untagged: "2 FETCH (UID 7 FLAGS ())"}, {untagged: "3 FETCH (UID 9 FLAGS ())"}}
	cases := []struct {
		name  string
		steps []step
		want  contradictionClass // -1: none
		says  string
	}{
		{"consistent", []step{{cmd: "EXPUNGE"}, {untagged: "2 EXPUNGE"}, {done: "OK"}, {cmd: "FETCH 2 (UID FLAGS)"}, {untagged: "2 FETCH (UID 9 FLAGS ())"}, {done: "OK"}}, -1, ""},
		{"zero", []step{{cmd: "NOOP"}, {untagged: "0 FETCH (UID 9 FLAGS ())"}}, seqClass, "1..3"},
		{"beyond", []step{{cmd: "NOOP"}, {untagged: "4 FETCH (FLAGS ())"}}, seqClass, "1..3"},
		{"uid changed", []step{{cmd: "NOOP"}, {untagged: "2 FETCH (UID 9 FLAGS ())"}}, seqClass, "had it"},
		{"uid out of order", []step{{untagged: "4 EXISTS"}, {cmd: "NOOP"}, {untagged: "4 FETCH (UID 8 FLAGS ())"}}, seqClass, "ascend"},
		{"expunge during fetch", []step{{cmd: "FETCH 1 (FLAGS)"}, {untagged: "1 EXPUNGE"}}, seqClass, "§7.5.1"},
		{"expunge during uid fetch", []step{{cmd: "UID FETCH 4 (FLAGS)"}, {untagged: "1 EXPUNGE"}, {done: "OK"}}, -1, ""},
		{"exists shrinks", []step{{cmd: "NOOP"}, {untagged: "2 EXISTS"}}, seqClass, "EXPUNGE"},
		{"search beyond", []step{{cmd: "SEARCH ALL"}, {untagged: "SEARCH 1 2 3 4"}, {done: "OK"}}, seqClass, "1..3"},
		{"keyword unannounced", []step{{cmd: "NOOP"}, {untagged: "1 FETCH (FLAGS ($Work))"}}, flagClass, "$Work"},
		{"keyword announced", []step{{cmd: "NOOP"}, {untagged: `FLAGS (\Seen $Work)`}, {untagged: "1 FETCH (FLAGS ($Work))"}, {done: "OK"}}, -1, ""},
		{"own flag lost", []step{{cmd: `UID STORE 7 +FLAGS (\Flagged)`}, {untagged: `2 FETCH (UID 7 FLAGS (\Flagged))`}, {done: "OK"}, {cmd: "NOOP"}, {untagged: "2 FETCH (FLAGS ())"}}, flagClass, `\Flagged set`},
		{"own flag stale within the store", []step{{cmd: `UID STORE 7 +FLAGS (\Flagged)`}, {untagged: `2 FETCH (UID 7 FLAGS ())`}, {untagged: `2 FETCH (UID 7 FLAGS (\Flagged))`}, {done: "OK"}, {cmd: "NOOP"}, {untagged: `2 FETCH (FLAGS (\Flagged \Seen))`}, {done: "OK"}}, -1, ""},
		{"own flag wrong after the store", []step{{cmd: `STORE 2 -FLAGS (\Flagged)`}, {untagged: `2 FETCH (FLAGS (\Flagged))`}, {done: "OK"}}, flagClass, `\Flagged cleared`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newStressView(nil, 1, []string{`\Flagged`})
			tags := 0
			for _, s := range append(append([]step(nil), known...), c.steps...) {
				switch {
				case s.cmd != "":
					tags++
					v.cmd = newInProgress("t"+string(rune('0'+tags)), s.cmd, v)
				case s.untagged != "":
					v.apply(&response{Tag: "*", Text: s.untagged})
				default:
					v.completed(&response{Tag: v.cmd.tag, Text: s.done})
				}
			}
			found := v.found[seqClass]
			if found == nil {
				found = v.found[flagClass]
			}
			switch {
			case c.want < 0 && found != nil:
				t.Fatalf("found %s", found)
			case c.want < 0:
			case found == nil || found.class != c.want:
				t.Fatalf("found %v, want a contradiction of class %d", found, c.want)
			case !strings.Contains(found.String(), c.says):
				t.Fatalf("%s does not say %q", found, c.says)
			}
		})
	}
}
