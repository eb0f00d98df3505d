package imapbackend

import (
	"strings"
	"testing"
)

// TestLSubParentNoselect: LSUB with "%" lists an unsubscribed parent of a
// subscribed name as \Noselect (RFC 3501 §6.3.9), and only where "%" hides
// the subscribed name; LIST (SUBSCRIBED) never does (RFC 5258 §3).
func TestLSubParentNoselect(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	rc := ts.raw("bob")
	for _, cmd := range []string{"c1 CREATE a.b", "c2 CREATE c", "s1 SUBSCRIBE a.b", "s2 SUBSCRIBE c"} {
		rc.cmd(cmd)
	}
	out := rc.cmd(`l1 LSUB "" %`)
	if !strings.Contains(out, `* LSUB (\Noselect \HasChildren) "." "a"`) {
		t.Errorf("LSUB %% does not list the parent a as \\Noselect:\n%s", out)
	}
	if strings.Contains(out, "a.b") {
		t.Errorf("LSUB %% lists a.b, which %% does not match:\n%s", out)
	}
	if out := rc.cmd(`l2 LSUB "" *`); strings.Contains(out, `\Noselect`) {
		t.Errorf("LSUB * lists a stand-in parent though it shows a.b itself:\n%s", out)
	}
	if out := rc.cmd(`l3 LIST (SUBSCRIBED) "" %`); strings.Contains(out, `"." "a"`) {
		t.Errorf("LIST (SUBSCRIBED) lists the unsubscribed a:\n%s", out)
	}
}

// TestChildInfoOnlyForHiddenChildren: RECURSIVEMATCH gives a parent
// CHILDINFO only for a subscribed descendant the patterns do not list
// themselves (RFC 5258 §3.5; imaptest listext).
func TestChildInfoOnlyForHiddenChildren(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	rc := ts.raw("bob")
	rc.cmd("c1 CREATE p.q")
	rc.cmd("s1 SUBSCRIBE p.q")
	if out := rc.cmd(`l1 LIST (SUBSCRIBED RECURSIVEMATCH) "" %`); !strings.Contains(out, "CHILDINFO") {
		t.Errorf("p.q hidden by %%, but p has no CHILDINFO:\n%s", out)
	}
	if out := rc.cmd(`l2 LIST (SUBSCRIBED RECURSIVEMATCH) "" (p p.q)`); strings.Contains(out, "CHILDINFO") {
		t.Errorf("p.q is listed itself, yet p has CHILDINFO:\n%s", out)
	}
}
