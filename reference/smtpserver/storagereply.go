package smtpserver

import (
	"errors"
	"syscall"

	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// storageReply is the reply to a message that Backend.Deliver did not
// store for a reason of its own (not a *smtpreply.Reply). Both replies are
// transient (4yz): nothing was accepted, so the client keeps the message and
// sends it again later (RFC 5321 §4.2.1, §4.5.4.1); and both are valid
// after the data (RFC 5321 §4.3.2 lists 451 and 452 for DATA).
//
//   - No space left (ENOSPC) or disk quota exhausted (EDQUOT): 452
//     "Requested action not taken: insufficient system storage" (RFC 5321
//     §4.2.2, §4.2.3) with 4.3.1 "Mail system full" (RFC 3463 §3.4). The
//     quota is the server's file-system quota, not the recipient's mailbox
//     (that would be X.2.2), since the server stores every user's mail as
//     one system user.
//   - Any other failure (EIO, EROFS, EACCES, ...): 451 "Requested action
//     aborted: local error in processing" (RFC 5321 §4.2.3) with 4.3.0
//     "Other or undefined mail system status" (RFC 3463 §3.4).
func storageReply(err error) *smtpreply.Reply {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return smtpreply.NewReply(452, "4.3.1", "Requested action not taken: insufficient system storage")
	}
	return smtpreply.NewReply(451, "4.3.0", "Requested action aborted: local error in processing")
}

// replyDeliveryError answers the end of DATA when Deliver failed: a
// *smtpreply.Reply as it is, any other error logged and mapped by
// storageReply. The session goes on: the transaction is reset and the
// client may try again.
func (s *session) replyDeliveryError(err error) {
	var r *smtpreply.Reply
	if errors.As(err, &r) {
		s.writeReply(r)
		return
	}
	reply := storageReply(err)
	s.log.Error("delivery failed; message refused", "err", err, "reply", reply.Code)
	s.writeReply(reply)
}
