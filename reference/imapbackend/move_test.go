package imapbackend

import (
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// TestMoveIntoSelectedMailbox: COPY and MOVE may name the selected mailbox
// (RFC 9051 §6.4.7, RFC 6851 §3.1): the message gets a new UID at the end.
func TestMoveIntoSelectedMailbox(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	ts.deliver("bob", testMessage)
	c := ts.login("bob", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	moved, err := c.Move(imap.SeqSetNum(1), "INBOX").Wait()
	if err != nil {
		t.Fatalf("MOVE into the selected mailbox: %v", err)
	}
	if moved.SourceUIDs.String() != "1" || moved.DestUIDs.String() != "2" {
		t.Errorf("COPYUID %v -> %v, want 1 -> 2", moved.SourceUIDs, moved.DestUIDs)
	}
	msgs := fetchAll(t, c, imap.SeqSetNum(1), &imap.FetchOptions{UID: true})
	if len(msgs) != 1 || msgs[0].UID != 2 {
		t.Errorf("after MOVE: %+v, want one message, UID 2", msgs)
	}
	if _, err := c.Copy(imap.SeqSetNum(1), "INBOX").Wait(); err != nil {
		t.Errorf("COPY into the selected mailbox: %v", err)
	}
}

// TestMoveWithinTellsExpungeFirst: the session moving a message within
// its mailbox hears the EXPUNGE before the EXISTS, so it is never told of
// a message count the mailbox does not hold (imaptest move).
func TestMoveWithinTellsExpungeFirst(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	ts.deliver("bob", testMessage)
	rc := ts.raw("bob")
	rc.cmd("s SELECT INBOX")
	out := rc.cmd("m MOVE 1 INBOX")
	expunge, exists := strings.Index(out, "* 1 EXPUNGE"), strings.Index(out, "* 1 EXISTS")
	if expunge < 0 || exists < expunge || strings.Contains(out, "* 2 EXISTS") {
		t.Errorf("MOVE into the selected mailbox:\n%s", out)
	}
}
