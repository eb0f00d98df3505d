package imapbackend

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

const testMessage = "From: Carol <carol@example.net>\r\n" +
	"To: bob@example.org\r\n" +
	"Subject: hello\r\n" +
	"Date: Mon, 02 Jan 2023 15:04:05 +0000\r\n" +
	"Message-ID: <1@example.net>\r\n" +
	"\r\n" +
	"line one\r\n" +
	"line two\r\n"

func fetchAll(t *testing.T, c *imapclient.Client, set imap.NumSet, opts *imap.FetchOptions) []*imapclient.FetchMessageBuffer {
	t.Helper()
	msgs, err := c.Fetch(set, opts).Collect()
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	return msgs
}

func TestFoldersPersist(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	c := ts.login("bob", nil)
	for _, name := range []string{"Work", "Work.Projects", "Archive"} {
		if err := c.Create(name, nil).Wait(); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	if err := c.Create("Work", nil).Wait(); !isNo(err, imap.ResponseCodeAlreadyExists) {
		t.Errorf("create existing: %v", err)
	}
	if err := c.Delete("INBOX").Wait(); err == nil {
		t.Error("deleted INBOX")
	}
	if err := c.Delete("Nope").Wait(); !isNo(err, imap.ResponseCodeNonExistent) {
		t.Errorf("delete missing: %v", err)
	}
	if err := c.Rename("Archive", "Old", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	c.Subscribe("Work").Wait()

	ts = ts.restart()
	c = ts.login("bob", nil)
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Mailbox)
		if l.Mailbox == "Work" && !slices.Contains(l.Attrs, imap.MailboxAttrHasChildren) {
			t.Errorf("Work lacks \\HasChildren: %v", l.Attrs)
		}
	}
	if !slices.Equal(names, []string{"INBOX", "Old", "Work", "Work.Projects"}) {
		t.Errorf("after restart: %v", names)
	}
	subs, _ := c.List("", "*", &imap.ListOptions{SelectSubscribed: true}).Collect()
	if len(subs) != 1 || subs[0].Mailbox != "Work" {
		t.Errorf("subscriptions after restart: %+v", subs)
	}
	// INBOX is case-insensitive.
	if _, err := c.Select("inbox", nil).Wait(); err != nil {
		t.Errorf("select inbox: %v", err)
	}
}

func isNo(err error, code imap.ResponseCode) bool {
	var ie *imap.Error
	return errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo && ie.Code == code
}

func TestFlagsPersistAcrossSessionsAndRestart(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	ts.deliver("bob", testMessage)
	ts.deliver("bob", testMessage)
	c := ts.login("bob", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	store := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged, imap.FlagAnswered, "$Work"}}, nil)
	got, err := store.Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !slices.Contains(got[0].Flags, imap.FlagFlagged) {
		t.Errorf("STORE did not return FETCH FLAGS: %+v", got)
	}
	silent, err := c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDraft}}, nil).Collect()
	if err != nil || len(silent) != 0 {
		t.Errorf("STORE .SILENT returned %+v, %v", silent, err)
	}
	c.Logout().Wait()

	for round := range 2 {
		if round == 1 {
			ts = ts.restart()
		}
		c := ts.login("bob", nil)
		sel, err := c.Select("INBOX", nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(sel.PermanentFlags, imap.FlagWildcard) || !slices.Contains(sel.Flags, "$Work") {
			t.Errorf("FLAGS %v PERMANENTFLAGS %v", sel.Flags, sel.PermanentFlags)
		}
		msgs := fetchAll(t, c, imap.SeqSetNum(1, 2), &imap.FetchOptions{Flags: true})
		if f := msgs[0].Flags; !slices.Contains(f, imap.FlagFlagged) || !slices.Contains(f, imap.FlagAnswered) || !slices.Contains(f, "$Work") {
			t.Errorf("message 1 flags %v", f)
		}
		if f := withoutRecent(msgs[1].Flags); !slices.Equal(f, []imap.Flag{imap.FlagDraft}) {
			t.Errorf("message 2 flags %v", f)
		}
		c.Logout().Wait()
	}
}

func TestUIDsAndUIDValidityPersist(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	ts.deliver("bob", testMessage)
	ts.deliver("bob", testMessage)
	c := ts.login("bob", nil)
	sel, _ := c.Select("INBOX", nil).Wait()
	validity := sel.UIDValidity
	if sel.UIDNext != 3 || sel.NumMessages != 2 {
		t.Errorf("SELECT: %+v", sel)
	}
	c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
	c.Expunge().Close()
	c.Logout().Wait()

	ts = ts.restart()
	ts.deliver("bob", testMessage)
	c = ts.login("bob", nil)
	sel, _ = c.Select("INBOX", nil).Wait()
	if sel.UIDValidity != validity {
		t.Errorf("UIDVALIDITY changed across restart: %d → %d", validity, sel.UIDValidity)
	}
	msgs := fetchAll(t, c, imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true})
	if msgs[0].UID != 1 || msgs[1].UID != 3 {
		t.Errorf("UIDs %d %d: an expunged UID was reused or order lost", msgs[0].UID, msgs[1].UID)
	}
	// UID n:* includes the highest UID even when n is above it (raw lines:
	// imapclient drops a response outside the set it asked for).
	raw := ts.raw("bob")
	raw.cmd("a SELECT INBOX")
	if got := raw.cmd("b UID FETCH 99:* (UID)"); !strings.Contains(got, "* 2 FETCH (UID 3)") {
		t.Errorf("UID FETCH 99:* answered:\n%s", got)
	}
	// A re-created mailbox gets a new UIDVALIDITY.
	c.Create("Box", nil).Wait()
	a, _ := c.Status("Box", &imap.StatusOptions{UIDValidity: true}).Wait()
	c.Delete("Box").Wait()
	c.Create("Box", nil).Wait()
	b, _ := c.Status("Box", &imap.StatusOptions{UIDValidity: true}).Wait()
	if a.UIDValidity == b.UIDValidity {
		t.Errorf("re-created mailbox kept UIDVALIDITY %d", a.UIDValidity)
	}
}

func TestFetchItems(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	ts.deliver("bob", testMessage)
	c := ts.login("bob", nil)
	c.Select("INBOX", nil).Wait()
	peek := &imap.FetchItemBodySection{Peek: true}
	partial := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText, Peek: true, Partial: &imap.SectionPartial{Offset: 5, Size: 3}}
	msgs := fetchAll(t, c, imap.SeqSetNum(1), &imap.FetchOptions{
		Flags: true, InternalDate: true, RFC822Size: true, UID: true, Envelope: true,
		BodyStructure: &imap.FetchItemBodyStructure{}, BodySection: []*imap.FetchItemBodySection{peek, partial},
	})
	m := msgs[0]
	if m.RFC822Size != int64(len(testMessage)) || string(m.FindBodySection(peek)) != testMessage {
		t.Errorf("size %d, BODY.PEEK[] %q", m.RFC822Size, m.FindBodySection(peek))
	}
	if got := string(m.FindBodySection(partial)); got != "one" {
		t.Errorf("BODY.PEEK[TEXT]<5.3> = %q", got)
	}
	if m.Envelope == nil || m.Envelope.Subject != "hello" || m.Envelope.From[0].Host != "example.net" {
		t.Errorf("envelope %+v", m.Envelope)
	}
	if m.BodyStructure == nil || m.BodyStructure.MediaType() != "text/plain" {
		t.Errorf("body structure %+v", m.BodyStructure)
	}
	if m.InternalDate.IsZero() || time.Since(m.InternalDate) > time.Minute {
		t.Errorf("internal date %v", m.InternalDate)
	}
	if slices.Contains(m.Flags, imap.FlagSeen) {
		t.Error("BODY.PEEK[] set \\Seen")
	}
	// BODY[] without PEEK sets \Seen, and says so in the response.
	full := &imap.FetchItemBodySection{}
	m = fetchAll(t, c, imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{full}})[0]
	if !slices.Contains(m.Flags, imap.FlagSeen) {
		t.Errorf("BODY[] did not report \\Seen: %v", m.Flags)
	}
}

func TestExamineIsReadOnly(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	ts.deliver("bob", testMessage)
	c := ts.login("bob", nil)
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	fetchAll(t, c, imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}})
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err == nil {
		t.Error("STORE succeeded in a read-only mailbox")
	}
	c.Select("INBOX", nil).Wait()
	if f := withoutRecent(fetchAll(t, c, imap.SeqSetNum(1), &imap.FetchOptions{Flags: true})[0].Flags); len(f) != 0 {
		t.Errorf("EXAMINE changed flags: %v", f)
	}
}

func TestCopyMoveExpungeRenumber(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	for i := 0; i < 4; i++ {
		ts.deliver("bob", testMessage)
	}
	c := ts.login("bob", nil)
	c.Create("Saved", nil).Wait()
	c.Select("INBOX", nil).Wait()
	copied, err := c.Copy(imap.SeqSetNum(1), "Saved").Wait()
	if err != nil || copied.DestUIDs.String() != "1" {
		t.Fatalf("COPY: %+v %v", copied, err)
	}
	if _, err := c.Copy(imap.SeqSetNum(1), "Missing").Wait(); !isNo(err, imap.ResponseCodeTryCreate) {
		t.Errorf("COPY to a missing mailbox: %v", err)
	}
	moved, err := c.Move(imap.SeqSetNum(2), "Saved").Wait()
	if err != nil || moved.SourceUIDs.String() != "2" || moved.DestUIDs.String() != "2" {
		t.Fatalf("MOVE: %+v %v", moved, err)
	}
	if n := c.Mailbox().NumMessages; n != 3 {
		t.Errorf("after MOVE the client sees %d messages, want 3", n)
	}
	// Now INBOX holds UIDs 1, 3, 4 as messages 1-3. Expunge message 2 (UID 3).
	c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
	seqs, err := c.Expunge().Collect()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seqs, []uint32{2}) {
		t.Errorf("EXPUNGE responses %v, want [2]", seqs)
	}
	msgs := fetchAll(t, c, imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true})
	if len(msgs) != 2 || msgs[0].SeqNum != 1 || msgs[0].UID != 1 || msgs[1].SeqNum != 2 || msgs[1].UID != 4 {
		t.Errorf("after expunge: %+v", msgs)
	}
	st, _ := c.Status("Saved", &imap.StatusOptions{NumMessages: true}).Wait()
	if *st.NumMessages != 2 {
		t.Errorf("Saved holds %d", *st.NumMessages)
	}
}

func TestAppendAndSearch(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	c := ts.login("bob", nil)
	appendMsg := func(mailbox, msg string, flags []imap.Flag) error {
		cmd := c.Append(mailbox, int64(len(msg)), &imap.AppendOptions{Flags: flags})
		cmd.Write([]byte(msg))
		cmd.Close()
		_, err := cmd.Wait()
		return err
	}
	if err := appendMsg("Nope", testMessage, nil); !isNo(err, imap.ResponseCodeTryCreate) {
		t.Errorf("APPEND to a missing mailbox: %v", err)
	}
	if list, _ := c.List("", "Nope", nil).Collect(); len(list) != 0 {
		t.Error("failed APPEND created the mailbox")
	}
	appendMsg("INBOX", testMessage, []imap.Flag{imap.FlagSeen})
	appendMsg("INBOX", strings.Replace(testMessage, "hello", "other", 1), nil)
	c.Select("INBOX", nil).Wait()
	for _, tc := range []struct {
		criteria imap.SearchCriteria
		want     []uint32
	}{
		{imap.SearchCriteria{}, []uint32{1, 2}},
		{imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}}, []uint32{1}},
		{imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, []uint32{2}},
		{imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "OTHER"}}}, []uint32{2}},
		{imap.SearchCriteria{Body: []string{"line two"}}, []uint32{1, 2}},
		{imap.SearchCriteria{Text: []string{"carol"}}, []uint32{1, 2}},
		{imap.SearchCriteria{Not: []imap.SearchCriteria{{Flag: []imap.Flag{imap.FlagSeen}}}}, []uint32{2}},
		{imap.SearchCriteria{Larger: 1000}, nil},
	} {
		data, err := c.Search(&tc.criteria, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if got := data.AllSeqNums(); !slices.Equal(got, tc.want) {
			t.Errorf("SEARCH %+v = %v, want %v", tc.criteria, got, tc.want)
		}
	}
}

// TestIdleSeesDelivery: a delivery reaches an IDLE session as EXISTS.
func TestIdleSeesDelivery(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	exists := make(chan struct{}, 1)
	c := ts.login("bob", &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil && *d.NumMessages == 1 {
				exists <- struct{}{}
			}
		},
	}})
	c.Select("INBOX", nil).Wait()
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	ts.deliver("bob", testMessage)
	within(t, 5*time.Second, "EXISTS during IDLE", exists)
	idle.Close()
	idle.Wait()
}

// TestConcurrentSessionsAgree: sessions working on one mailbox at once end
// with the same view (the imaptest-style checkpoint).
func TestConcurrentSessionsAgree(t *testing.T) {
	ts := startIMAP(t, t.TempDir())
	for i := 0; i < 10; i++ {
		ts.deliver("bob", testMessage)
	}
	var wg sync.WaitGroup
	clients := make([]*imapclient.Client, 3)
	for i := range clients {
		clients[i] = ts.login("bob", nil)
		clients[i].Select("INBOX", nil).Wait()
	}
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Store(imap.SeqSetNum(uint32(i+1)), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
			c.Store(imap.SeqSetNum(uint32(i+5)), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.Flag("$k" + string(rune('a'+i)))}}, nil).Close()
		}()
	}
	wg.Wait()
	clients[0].Expunge().Close()
	var views []string
	for _, c := range clients {
		c.Noop().Wait()
		msgs := fetchAll(t, c, imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true})
		var b strings.Builder
		for _, m := range msgs {
			b.WriteString(strings.TrimSpace(strings.Repeat(" ", 0)))
			b.WriteString(imap.UIDSetNum(m.UID).String() + ":")
			for _, f := range withoutRecent(m.Flags) {
				b.WriteString(string(f) + ",")
			}
			b.WriteString(" ")
		}
		views = append(views, b.String())
	}
	if views[0] != views[1] || views[1] != views[2] {
		t.Errorf("sessions disagree:\n%s\n%s\n%s", views[0], views[1], views[2])
	}
	if strings.Count(views[0], ":") != 7 {
		t.Errorf("expected 7 messages after expunging 3: %s", views[0])
	}
}
