package imapbackend

import (
	"github.com/emersion/go-imap/v2/imapserver"
)

// moveWithin serves a MOVE into the selected mailbox (RFC 6851 §3.1): the
// messages get new UIDs at the end, and the session hears "* k EXPUNGE"
// for each before the EXISTS that brings it back (mailstore.MoveWithin),
// never a count the mailbox does not hold.
func (s *session) moveWithin(w *imapserver.MoveWriter, uids []uint32) error {
	src, dst, err := s.sel.mb.MoveWithin(uids)
	if len(src) > 0 {
		if werr := w.WriteCopyData(copyData(s.sel.mb, src, dst)); werr != nil {
			return werr
		}
	}
	return imapError(err)
}
