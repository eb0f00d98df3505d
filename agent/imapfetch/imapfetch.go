// Package imapfetch reads a mailbox over IMAP (RFC 9051, RFC 3501) with
// go-imap's client: greeting, STARTTLS, LOGIN, SELECT or EXAMINE, UID
// SEARCH, UID FETCH of headers and of whole messages (BODY.PEEK[], so
// reading sets no \Seen), and deletion by \Deleted and UID EXPUNGE. Every
// line is in the transcript (the password masked), every failure tagged
// with its stage; messages come back exactly as the server's literals.
//
// It keeps go-imap's client rather than mailcheck's own response reader
// (imap/imapwire, which the conformance suite and the read-back use): a
// fetch needs typed SEARCH, FETCH and STORE commands and a lenient
// reading of what servers send, not a judgement of its grammar. What it
// reads is bounded all the same: go-imap allocates nothing from a
// literal's announcement, but reads literals, lines and floods whole, so
// the connection it reads is guarded by an imapwire.Guard with the
// session's policy (session.Options.Bounds): a literal announced over its
// Literal is refused before go-imap reads any of it, a line over its Line
// and everything over its Total too, and the session ends with that
// error.
package imapfetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailcheck/mailcheck/agent/session"
	"github.com/mailcheck/mailcheck/agent/transcript"
	"github.com/mailcheck/mailcheck/imap/imapwire"
)

// Client is an IMAP session, logged in.
type Client struct {
	ic      *imapclient.Client
	tr      *transcript.Transcript
	stopCtx func() bool
	// maxMessage bounds a message read (the policy's Literal).
	maxMessage int64
	// guard holds the connection to the policy (see recordingConn).
	guard *imapwire.Guard
	// UIDValidity of the selected mailbox (RFC 9051 §2.3.1.1): a UID
	// names the same message only under the same UIDVALIDITY.
	UIDValidity uint32
}

// Entry is a message's listing.
type Entry struct {
	UID  uint32
	Size int64
	// Header is the header section, as the server sent it.
	Header []byte
}

// Criteria narrow a listing (RFC 9051 §6.4.4); the zero value is every
// message.
type Criteria struct {
	// Since: an internal date on or after this day (SEARCH SINCE).
	Since time.Time
	// Unseen: without \Seen.
	Unseen bool
	// Header: messages whose header field Name contains Value (the server
	// matches substrings; callers compare exactly on the header).
	Header []HeaderField
}

// HeaderField is a header field to search for.
type HeaderField struct{ Name, Value string }

// Dial connects, upgrades with STARTTLS as the policy says and logs in.
func Dial(ctx context.Context, o session.Options) (*Client, error) {
	c, err := session.Dial(ctx, o)
	if err != nil {
		return nil, err
	}
	replay, err := greetAndUpgrade(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	nc, buffered := c.Detach()
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = session.DefaultTimeout
	}
	rc := newRecordingConn(nc, append(replay, buffered...), o.Transcript, timeout, o.Policy())
	ic := imapclient.New(rc, nil)
	cl := &Client{ic: ic, tr: o.Transcript, guard: rc.guard, maxMessage: o.Policy().Literal, stopCtx: context.AfterFunc(ctx, func() { ic.Close() })}
	if err := ic.WaitGreeting(); err != nil {
		cl.Close()
		return nil, session.Fail(session.Greeting, cl.wire(err))
	}
	if err := cl.login(o); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// greetAndUpgrade reads the greeting (RFC 9051 §7.1) and runs STARTTLS
// (§6.2.1) itself, on the line connection, before go-imap's client takes
// over: that client upgrades inside its own reader, under the recorder,
// which would then see only ciphertext. It returns what the client must
// read as its greeting: the server's, or after STARTTLS a stand-in (the
// server sends no second greeting) that carries no capabilities, so the
// client asks again as §6.2.1 requires.
func greetAndUpgrade(c *session.Conn) ([]byte, error) {
	greeting, err := c.ReadLine()
	if err != nil {
		return nil, session.Fail(session.Greeting, err)
	}
	g := string(greeting)
	preauth := strings.HasPrefix(g, "* PREAUTH")
	if !strings.HasPrefix(g, "* OK") && !preauth {
		return nil, session.Failf(session.Greeting, "not an IMAP greeting: %q", strings.TrimSpace(g))
	}
	if c.TLS() || c.Options().StartTLS == session.StartTLSNever {
		return greeting, nil
	}
	if preauth {
		// STARTTLS is a command of the not-authenticated state only.
		if _, err := c.Options().StartTLS.Wanted(false, "STARTTLS (the session is PREAUTH)"); err != nil {
			return nil, err
		}
		return greeting, nil
	}
	caps := capabilityCode(g)
	if caps == nil {
		lines, err := preCommand(c, "P1", "CAPABILITY")
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			if rest, ok := strings.CutPrefix(l, "* CAPABILITY "); ok {
				caps = strings.Fields(strings.ToUpper(rest))
			}
		}
	}
	want, err := c.Options().StartTLS.Wanted(slices.Contains(caps, "STARTTLS"), "STARTTLS")
	if err != nil || !want {
		return greeting, err
	}
	if _, err := preCommand(c, "P2", "STARTTLS"); err != nil {
		return nil, err
	}
	if err := c.StartTLS(); err != nil {
		return nil, err
	}
	return []byte("* OK TLS established\r\n"), nil
}

// capabilityCode returns the capabilities of a "[CAPABILITY …]" response
// code in a greeting, nil when there is none.
func capabilityCode(line string) []string {
	_, rest, ok := strings.Cut(line, "[CAPABILITY ")
	if !ok {
		return nil
	}
	list, _, _ := strings.Cut(rest, "]")
	return strings.Fields(strings.ToUpper(list))
}

// preCommand sends a command before go-imap's client exists and returns
// its untagged lines; a tagged NO or BAD is an error in the TLS stage
// (CAPABILITY and STARTTLS are all it is used for).
func preCommand(c *session.Conn, tag, command string) ([]string, error) {
	if err := c.WriteLine(tag + " " + command); err != nil {
		return nil, session.Fail(session.TLS, err)
	}
	var untagged []string
	for range 1000 {
		line, err := c.ReadLine()
		if err != nil {
			return nil, session.Fail(session.TLS, err)
		}
		l := strings.TrimRight(string(line), "\r\n")
		if rest, ok := strings.CutPrefix(l, tag+" "); ok {
			if !strings.HasPrefix(strings.ToUpper(rest), "OK") {
				return nil, session.Failf(session.TLS, "%s: %s", command, rest)
			}
			return untagged, nil
		}
		untagged = append(untagged, l)
	}
	return nil, session.Failf(session.TLS, "%s: no tagged response after 1000 lines", command)
}

func (cl *Client) login(o session.Options) error {
	// The client asks for the capabilities itself when the greeting
	// carries none; Caps waits for them.
	if cl.ic.Caps().Has(imap.CapLoginDisabled) {
		return session.Failf(session.Auth, "the server refuses LOGIN here (LOGINDISABLED, RFC 9051 §6.2.3): use STARTTLS (--starttls always) or imaps://")
	}
	// The password goes out as an IMAP quoted string, backslash and quote
	// escaped (RFC 9051 §4.3), or as a literal.
	cl.tr.Secret(o.Password)
	cl.tr.Secret(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(o.Password))
	if err := cl.ic.Login(o.User, o.Password).Wait(); err != nil {
		return session.Fail(session.Auth, fmt.Errorf("LOGIN: %w", cl.wire(err)))
	}
	return nil
}

// Select opens mailbox: read-only (EXAMINE, RFC 9051 §6.3.3) unless
// messages are to be deleted.
func (cl *Client) Select(mailbox string, readOnly bool) error {
	data, err := cl.ic.Select(mailbox, &imap.SelectOptions{ReadOnly: readOnly}).Wait()
	if err != nil {
		return session.Fail(session.Mailbox, fmt.Errorf("SELECT %s: %w", mailbox, cl.wire(err)))
	}
	cl.UIDValidity = data.UIDValidity
	return nil
}

// Search returns the UIDs of the messages that meet the criteria, in
// ascending order.
func (cl *Client) Search(cr Criteria) ([]uint32, error) {
	var sc imap.SearchCriteria
	sc.Since = cr.Since
	if cr.Unseen {
		sc.NotFlag = []imap.Flag{imap.FlagSeen}
	}
	for _, h := range cr.Header {
		sc.Header = append(sc.Header, imap.SearchCriteriaHeaderField{Key: h.Name, Value: h.Value})
	}
	data, err := cl.ic.UIDSearch(&sc, nil).Wait()
	if err != nil {
		return nil, session.Fail(session.Mailbox, fmt.Errorf("UID SEARCH: %w", cl.wire(err)))
	}
	var uids []uint32
	for _, u := range data.AllUIDs() {
		uids = append(uids, uint32(u))
	}
	slices.Sort(uids)
	return uids, nil
}

var headerSection = &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}

// Headers lists the messages uids: their sizes (RFC822.SIZE) and header
// sections (BODY.PEEK[HEADER]), in ascending UID order.
func (cl *Client) Headers(uids []uint32) ([]Entry, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	msgs, err := cl.ic.Fetch(uidSet(uids), &imap.FetchOptions{
		UID: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{headerSection},
	}).Collect()
	if err != nil {
		return nil, session.Fail(session.Mailbox, fmt.Errorf("UID FETCH headers: %w", cl.wire(err)))
	}
	entries := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		entries = append(entries, Entry{UID: uint32(m.UID), Size: m.RFC822Size, Header: m.FindBodySection(headerSection)})
	}
	slices.SortFunc(entries, func(a, b Entry) int { return int(a.UID) - int(b.UID) })
	return entries, nil
}

// MaxMessageBytes is the default bound of one message read
// (bounds.Default's Literal, as pop3fetch's).
//
// Deprecated: the bound is session.Options.Bounds.Literal.
const MaxMessageBytes = 64 << 20

// ErrNoMessage is wrapped when a UID names no message.
var ErrNoMessage = errors.New("no such message")

// Retrieve returns message uid exactly as the server's literal
// (BODY.PEEK[], RFC 9051 §6.4.5: PEEK leaves \Seen alone).
func (cl *Client) Retrieve(uid uint32) ([]byte, error) {
	whole := &imap.FetchItemBodySection{Peek: true}
	cmd := cl.ic.Fetch(uidSet([]uint32{uid}), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{whole}})
	defer cmd.Close()
	var body []byte
	found := false
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			sec, ok := item.(imapclient.FetchItemDataBodySection)
			if !ok || !sec.MatchCommand(whole) {
				continue
			}
			found = true
			if sec.Literal == nil {
				continue
			}
			// The literal's size is the server's word: the guard refused
			// one announced over the bound, and this reads at most the
			// bound of it all the same.
			b, err := io.ReadAll(io.LimitReader(sec.Literal, cl.maxMessage+1))
			if err == nil && int64(len(b)) > cl.maxMessage {
				err = fmt.Errorf("a message of more than %d octets", cl.maxMessage)
			}
			if err != nil {
				return nil, session.Fail(session.Retrieve, fmt.Errorf("UID FETCH %d BODY.PEEK[]: %w", uid, cl.wire(err)))
			}
			body = b
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, session.Fail(session.Retrieve, fmt.Errorf("UID FETCH %d BODY.PEEK[]: %w", uid, cl.wire(err)))
	}
	if !found {
		return nil, session.Fail(session.Retrieve, fmt.Errorf("UID %d: %w", uid, ErrNoMessage))
	}
	return body, nil
}

// Delete marks the messages \Deleted and expunges them: with UID EXPUNGE
// (RFC 4315 §2.1, part of IMAP4rev2) only they go; a server without it
// gets EXPUNGE, which also removes whatever else is marked \Deleted in the
// mailbox (the transcript says so).
func (cl *Client) Delete(uids []uint32) error {
	if len(uids) == 0 {
		return nil
	}
	set := uidSet(uids)
	store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
	if err := cl.ic.Store(set, store, nil).Close(); err != nil {
		return session.Fail(session.Delete, fmt.Errorf("UID STORE \\Deleted: %w", cl.wire(err)))
	}
	var err error
	if cl.ic.Caps().Has(imap.CapUIDPlus) {
		err = cl.ic.UIDExpunge(set).Close()
	} else {
		cl.tr.Note("no UIDPLUS: EXPUNGE removes every message marked \\Deleted in the mailbox")
		err = cl.ic.Expunge().Close()
	}
	if err != nil {
		return session.Fail(session.Delete, fmt.Errorf("EXPUNGE: %w", cl.wire(err)))
	}
	return nil
}

// Logout ends the session (RFC 9051 §6.1.3).
func (cl *Client) Logout() error {
	err := cl.ic.Logout().Wait()
	cl.Close()
	return err
}

// Close drops the connection.
func (cl *Client) Close() error {
	cl.stopCtx()
	return cl.ic.Close()
}

// wire is err, or the guard's refusal when the guard made go-imap fail:
// go-imap reports a failed read in words ("in response: cannot read
// tag: …"), and the refusal itself says what the server did.
func (cl *Client) wire(err error) error {
	if g := cl.guard.Err(); g != nil && err != nil {
		return g
	}
	return err
}

func uidSet(uids []uint32) imap.UIDSet {
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	return set
}
