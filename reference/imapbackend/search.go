package imapbackend

import (
	"bufio"
	"bytes"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"github.com/mailcheck/mailcheck/reference/mailstore"
)

// Search serves SEARCH and UID SEARCH with ESEARCH results and SEARCHRES
// (RFC 9051 §6.4.4, RFC 4731, RFC 5182).
func (s *session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	// The messages the client knows, as they are now; one expunged by
	// another session and not yet announced matches nothing.
	known := s.sel.view.known()
	all, err := s.sel.messages(known, nil)
	if err != nil {
		return nil, err
	}
	var maxUID imap.UID
	if len(known) > 0 {
		maxUID = imap.UID(known[len(known)-1])
	}
	criteria = s.sel.staticCriteria(criteria, uint32(len(known)), maxUID)
	var data imap.SearchData
	var seqs imap.SeqSet
	var uids imap.UIDSet
	for _, t := range all {
		t.msg.Flags = s.flagsForClient(t.msg)
		m := &candidate{msg: t.msg, seq: t.seq, mb: s.sel.mb}
		if !m.matches(criteria) {
			continue
		}
		num := t.seq
		if kind == imapserver.NumKindUID {
			num = t.msg.UID
		}
		seqs.AddNum(t.seq)
		uids.AddNum(imap.UID(t.msg.UID))
		if data.Min == 0 || num < data.Min {
			data.Min = num
		}
		data.Max = max(data.Max, num)
		data.Count++
	}
	if kind == imapserver.NumKindUID {
		data.All = uids
	} else {
		data.All = seqs
	}
	if options.ReturnSave {
		s.sel.saved = uids
	}
	return &data, nil
}

// staticCriteria resolves "*" and "$" in the criteria's number sets.
func (sel *selected) staticCriteria(c *imap.SearchCriteria, count uint32, maxUID imap.UID) *imap.SearchCriteria {
	out := *c
	out.SeqNum, out.UID = nil, nil
	for _, set := range c.SeqNum {
		if imap.IsSearchRes(set) {
			out.UID = append(out.UID, sel.saved)
			continue
		}
		out.SeqNum = append(out.SeqNum, staticSeqSet(set, count))
	}
	for _, set := range c.UID {
		if imap.IsSearchRes(set) {
			out.UID = append(out.UID, sel.saved)
			continue
		}
		out.UID = append(out.UID, staticUIDSet(set, maxUID))
	}
	out.Not = make([]imap.SearchCriteria, len(c.Not))
	for i := range c.Not {
		out.Not[i] = *sel.staticCriteria(&c.Not[i], count, maxUID)
	}
	out.Or = make([][2]imap.SearchCriteria, len(c.Or))
	for i := range c.Or {
		out.Or[i] = [2]imap.SearchCriteria{*sel.staticCriteria(&c.Or[i][0], count, maxUID), *sel.staticCriteria(&c.Or[i][1], count, maxUID)}
	}
	return &out
}

// candidate is a message being matched; its content is read only if a
// criterion needs it.
type candidate struct {
	msg     mailstore.Message
	seq     uint32
	mb      *mailstore.Mailbox
	content []byte
	read    bool
}

func (c *candidate) body() []byte {
	if !c.read {
		c.content, _ = c.mb.Read(c.msg.UID)
		c.read = true
	}
	return c.content
}

func (c *candidate) matches(cr *imap.SearchCriteria) bool {
	for _, set := range cr.SeqNum {
		if !set.Contains(c.seq) {
			return false
		}
	}
	for _, set := range cr.UID {
		if !set.Contains(imap.UID(c.msg.UID)) {
			return false
		}
	}
	if !inDateRange(c.msg.Date, cr.Since, cr.Before) {
		return false
	}
	for _, f := range cr.Flag {
		if !hasFlagFold(c.msg.Flags, string(f)) {
			return false
		}
	}
	for _, f := range cr.NotFlag {
		if hasFlagFold(c.msg.Flags, string(f)) {
			return false
		}
	}
	if cr.Larger != 0 && c.msg.Size <= cr.Larger || cr.Smaller != 0 && c.msg.Size >= cr.Smaller {
		return false
	}
	if len(cr.Header) > 0 || !cr.SentSince.IsZero() || !cr.SentBefore.IsZero() {
		h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(c.body())))
		if err != nil {
			return false
		}
		for _, hf := range cr.Header {
			if !headerContains(h.FieldsByKey(hf.Key), hf.Value, isAddressField(hf.Key)) {
				return false
			}
		}
		if !cr.SentSince.IsZero() || !cr.SentBefore.IsZero() {
			date, err := (&mail.Header{Header: gomessage.Header{Header: h}}).Date()
			if err != nil || !inDateRange(date, cr.SentSince, cr.SentBefore) {
				return false
			}
		}
	}
	for _, text := range cr.Text {
		if !bytes.Contains(bytes.ToLower(c.body()), bytes.ToLower([]byte(text))) {
			return false
		}
	}
	for _, text := range cr.Body {
		if !bodyContains(c.body(), text) {
			return false
		}
	}
	for i := range cr.Not {
		if c.matches(&cr.Not[i]) {
			return false
		}
	}
	for i := range cr.Or {
		if !c.matches(&cr.Or[i][0]) && !c.matches(&cr.Or[i][1]) {
			return false
		}
	}
	return true
}

func hasFlagFold(flags []string, flag string) bool {
	return slices.ContainsFunc(flags, func(f string) bool { return strings.EqualFold(f, flag) })
}

// inDateRange compares dates only, disregarding time and zone (RFC 9051
// §6.4.4, SINCE and BEFORE).
func inDateRange(t, since, before time.Time) bool {
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if !since.IsZero() && day.Before(since) {
		return false
	}
	return before.IsZero() || day.Before(before)
}

// headerContains: an empty value matches any message with the field
// (RFC 9051 §6.4.4, HEADER); otherwise a case-insensitive substring of its
// text or, for an address field, of its addresses (addressContains).
func headerContains(fields textproto.HeaderFields, value string, addresses bool) bool {
	for fields.Next() {
		if value == "" || strings.Contains(strings.ToLower(fields.Value()), strings.ToLower(value)) ||
			addresses && addressContains(fields.Value(), value) {
			return true
		}
	}
	return false
}

func isAddressField(key string) bool {
	return slices.ContainsFunc(addressFields, func(f string) bool { return strings.EqualFold(f, key) })
}

// bodyContains searches the text after the header, case-insensitively.
func bodyContains(content []byte, text string) bool {
	r := bufio.NewReader(bytes.NewReader(content))
	if _, err := textproto.ReadHeader(r); err != nil {
		return false
	}
	rest, _ := io.ReadAll(r)
	return bytes.Contains(bytes.ToLower(rest), bytes.ToLower([]byte(text)))
}
