package imapbackend

import (
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// trackerObserver passes mailstore changes on to a MailboxTracker, which
// queues them for every session that has the mailbox selected. The mailstore
// calls it under the mailbox lock, in order, with the sequence numbers of
// the moment, which is what the tracker expects.
type trackerObserver struct {
	t *imapserver.MailboxTracker
}

func (o trackerObserver) NumMessages(n uint32) { o.t.QueueNumMessages(n) }

func (o trackerObserver) Expunged(seq uint32) { o.t.QueueExpunge(seq) }

func (o trackerObserver) FlagsChanged(seq, uid uint32, flags []string, source any) {
	st, _ := source.(*imapserver.SessionTracker)
	o.t.QueueMessageFlags(seq, imap.UID(uid), toIMAPFlags(flags), st)
}

func toIMAPFlags(flags []string) []imap.Flag {
	out := make([]imap.Flag, len(flags))
	for i, f := range flags {
		out[i] = imap.Flag(f)
	}
	return out
}

func fromIMAPFlags(flags []imap.Flag) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = string(f)
	}
	return out
}
