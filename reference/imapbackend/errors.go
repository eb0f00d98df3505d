package imapbackend

import (
	"errors"

	"github.com/emersion/go-imap/v2"

	"github.com/mailcheck/mailcheck/reference/mailstore"
)

// imapError turns a mailstore error into the tagged NO an IMAP client can
// act on (RFC 5530 response codes); other errors pass through and become a
// generic server error.
func imapError(err error) error {
	no := func(code imap.ResponseCode, text string) error {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: code, Text: text}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mailstore.ErrNoMailbox):
		return no(imap.ResponseCodeNonExistent, "No such mailbox")
	case errors.Is(err, mailstore.ErrExists):
		return no(imap.ResponseCodeAlreadyExists, "Mailbox already exists")
	case errors.Is(err, mailstore.ErrBadName):
		return no(imap.ResponseCodeCannot, "Invalid mailbox name")
	case errors.Is(err, mailstore.ErrInbox):
		return no(imap.ResponseCodeCannot, "INBOX cannot be deleted")
	case errors.Is(err, mailstore.ErrTooManyKeywords):
		return no(imap.ResponseCodeLimit, "No room for another keyword in this mailbox")
	}
	return err
}

var (
	errReadOnly  = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "Mailbox is read-only (EXAMINE)"}
	errTryCreate = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeTryCreate, Text: "No such mailbox"}
)
