package imapbackend

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// fullSession is every interface the backend's session implements.
type fullSession interface {
	imapserver.SessionIMAP4rev2
	imapserver.SessionUnauthenticate
	imapserver.SessionAppendLimit
}

// auditing is an embedder's wrapper: it counts the mailboxes selected and
// passes everything on.
type auditing struct {
	fullSession
	selects *atomic.Int32
}

func (a auditing) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	a.selects.Add(1)
	return a.fullSession.Select(name, options)
}

// TestWrapSession: go-imap drives the session WrapSession returns, and
// the commands the wrapper passes on reach the backend.
func TestWrapSession(t *testing.T) {
	var selects atomic.Int32
	ts := startIMAPWith(t, t.TempDir(), func(o *Options) {
		o.WrapSession = func(s imapserver.Session, conn *imapserver.Conn) imapserver.Session {
			if conn == nil {
				t.Error("WrapSession got no connection")
			}
			return auditing{s.(fullSession), &selects}
		}
	})
	ts.deliver("bob", testMessage)
	rc := ts.raw("bob")
	if out := rc.cmd("a SELECT INBOX"); !strings.Contains(out, "* 1 EXISTS") || !strings.Contains(out, "a OK") {
		t.Errorf("SELECT through the wrapper: %q", out)
	}
	// MOVE into the selected mailbox is allowed (RFC 6851 §3.1): the
	// backend's answer, with its COPYUID, shows the command got there.
	if out := rc.cmd("b MOVE 1 INBOX"); !strings.Contains(out, "[COPYUID ") || !strings.Contains(out, "b OK") {
		t.Errorf("MOVE (an IMAP4rev2 command the wrapper passes on) to the same mailbox: %q", out)
	}
	if n := selects.Load(); n != 1 {
		t.Errorf("the wrapper saw %d SELECTs, want 1", n)
	}
}
