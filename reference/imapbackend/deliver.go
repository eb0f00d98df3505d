package imapbackend

import (
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// deliver writes the updates the view has pending, in the order the
// mailbox made them, and moves the view past them. imapserver calls it
// (through Session.Poll) after each command, before its tagged response.
//
// EXPUNGE is written only where allowExpunge says RFC 9051 §7.5.1 allows
// it: "An EXPUNGE response MUST NOT be sent when no command is in progress,
// nor while responding to a FETCH, STORE, or SEARCH command" (UID FETCH,
// UID STORE and UID SEARCH may have them; RFC 3501 §7.4.1 for IMAP4rev1).
// Held expunges stay queued, and the message keeps its sequence number
// meanwhile; updates after them are delivered all the same, as they
// renumber nothing.
func (v *view) deliver(w *imapserver.UpdateWriter, allowExpunge bool) (err error) {
	var held []update
	defer func() { v.queue.putBack(held) }()
	for _, u := range v.queue.take() {
		switch u.kind {
		case updateAdded:
			v.uids = append(v.uids, u.uid)
			if u.recent {
				v.recent.add(u.uid)
			}
			// The client may fetch the new message's flags next: their
			// keywords must be known by then.
			err = v.announce(w, u.flags)
		case updateExpunged:
			if !allowExpunge {
				held = append(held, u)
				continue
			}
			err = v.expunge(w, u.uid)
		case updateFlags:
			err = v.flagsChanged(w, u)
		}
		if err != nil {
			return err
		}
	}
	if err := v.exists(w); err != nil {
		return err
	}
	return v.tellRecent(w)
}

// exists tells the client of the messages appended to the view since its
// last EXISTS. RFC 9051 §5.2: "A server MUST send mailbox size updates
// automatically if a mailbox size change is observed during the processing
// of a command"; EXISTS never goes down ("only the EXPUNGE response can do
// this"), as told counts only what EXPUNGE has not taken away.
func (v *view) exists(w *imapserver.UpdateWriter) error {
	if len(v.uids) <= v.told {
		return nil
	}
	v.told = len(v.uids)
	v.resized = true
	return w.WriteNumMessages(uint32(v.told))
}

// tellRecent writes RECENT when the mailbox's size changed for the client
// (RFC 3501 §7.3.2: RECENT is sent "if the size of the mailbox changes")
// or the number it was last told did: an EXPUNGE of a recent message
// lowers it, and a client keeps the number it was told (imaptest sums the
// sessions' numbers at a checkpoint). go-imap drops it for IMAP4rev2.
func (v *view) tellRecent(w *imapserver.UpdateWriter) error {
	n := v.recent.count(v.known())
	if !v.resized && n == v.recentTold {
		return nil
	}
	v.resized, v.recentTold = false, n
	return w.WriteNumRecent(n)
}

// expunge writes the EXPUNGE of uid with its sequence number in the view,
// which then renumbers the messages after it (RFC 9051 §7.5.1). A message
// the client was never told of (appended and expunged since its last
// EXISTS) just leaves the view.
func (v *view) expunge(w *imapserver.UpdateWriter, uid uint32) error {
	seq, ok := v.seqOf(uid)
	if !ok {
		return nil
	}
	told := int(seq) <= v.told
	v.remove(seq)
	if !told {
		return nil
	}
	v.resized = true
	return w.WriteExpunge(seq)
}

// flagsChanged writes an unsolicited FETCH with the message's new flags
// (RFC 9051 §5.2: "A server SHOULD send message flag updates
// automatically"), with its UID, after the EXISTS that makes its sequence
// number valid and the FLAGS that makes its keywords known.
func (v *view) flagsChanged(w *imapserver.UpdateWriter, u update) error {
	seq, ok := v.seqOf(u.uid)
	if !ok {
		return nil
	}
	if err := v.announce(w, u.flags); err != nil {
		return err
	}
	if int(seq) > v.told {
		if err := v.exists(w); err != nil {
			return err
		}
	}
	return w.WriteMessageFlags(seq, imap.UID(u.uid), toIMAPFlags(v.flagsForClient(u.uid, u.flags)))
}

// announce writes an untagged FLAGS response when flags hold a keyword the
// client has not been told of. RFC 9051 §7.3.5: "The update from the FLAGS
// response MUST be recorded by the client"; clients (and imaptest) take
// FLAGS as the list of keywords that may appear in FETCH.
func (v *view) announce(w *imapserver.UpdateWriter, flags []string) error {
	if !v.announced.add(flags) {
		return nil
	}
	return w.WriteMailboxFlags(mailboxFlags(v.announced.list))
}

// idle delivers updates as they arrive until stop is closed (RFC 2177).
func (v *view) idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	for {
		if err := v.deliver(w, true); err != nil {
			return err
		}
		select {
		case <-v.queue.wake:
		case <-stop:
			return nil
		}
	}
}
