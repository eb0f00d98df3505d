package faultimap

import (
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// A wrapper learns about the selected mailbox the way a client would: by
// asking the backend's session to SEARCH it, which answers in the
// session's own view (its sequence numbers) and writes nothing to the
// connection.

// message is one message as the session knows it.
type message struct {
	seq uint32
	uid imap.UID
}

// messagesOf lists the messages numSet names, in sequence order.
func messagesOf(s imapserver.Session, numSet imap.NumSet) ([]message, error) {
	criteria := criteriaFor(numSet)
	bySeq, err := s.Search(imapserver.NumKindSeq, criteria, &imap.SearchOptions{})
	if err != nil {
		return nil, err
	}
	byUID, err := s.Search(imapserver.NumKindUID, criteria, &imap.SearchOptions{})
	if err != nil {
		return nil, err
	}
	seqs := bySeq.AllSeqNums()
	uids := byUID.AllUIDs()
	out := make([]message, 0, len(seqs))
	for i := range min(len(seqs), len(uids)) {
		out = append(out, message{seqs[i], uids[i]})
	}
	return out, nil
}

// uidsOf lists the UIDs of the messages criteria match, ascending.
func uidsOf(s imapserver.Session, criteria *imap.SearchCriteria) ([]imap.UID, error) {
	data, err := s.Search(imapserver.NumKindUID, criteria, &imap.SearchOptions{})
	if err != nil {
		return nil, err
	}
	return data.AllUIDs(), nil
}

// flagsOf lists which of the known flags the message with uid has.
func flagsOf(s imapserver.Session, uid imap.UID, known []string) ([]string, error) {
	var out []string
	for _, f := range known {
		uids, err := uidsOf(s, &imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(uid)}, Flag: []imap.Flag{imap.Flag(f)}})
		if err != nil {
			return nil, err
		}
		if len(uids) > 0 {
			out = append(out, f)
		}
	}
	return out, nil
}

// criteriaFor is the SEARCH criteria naming the messages of numSet.
func criteriaFor(numSet imap.NumSet) *imap.SearchCriteria {
	switch set := numSet.(type) {
	case imap.SeqSet:
		return &imap.SearchCriteria{SeqNum: []imap.SeqSet{set}}
	case imap.UIDSet:
		return &imap.SearchCriteria{UID: []imap.UIDSet{set}}
	}
	return &imap.SearchCriteria{}
}
