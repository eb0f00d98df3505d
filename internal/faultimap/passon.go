package faultimap

import (
	"errors"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// passOn hands every call to the backend's session. A fault embeds it and
// overrides the calls it breaks; the optional interfaces the backend
// implements are passed on too, so go-imap offers the same commands.
type passOn struct{ imapserver.Session }

var (
	_ imapserver.SessionIMAP4rev2      = passOn{}
	_ imapserver.SessionUnauthenticate = passOn{}
	_ imapserver.SessionAppendLimit    = passOn{}
)

// Namespace passes NAMESPACE on.
func (p passOn) Namespace() (*imap.NamespaceData, error) {
	return p.Session.(imapserver.SessionNamespace).Namespace()
}

// Move passes MOVE on.
func (p passOn) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	return p.Session.(imapserver.SessionMove).Move(w, numSet, dest)
}

// Unauthenticate passes UNAUTHENTICATE on.
func (p passOn) Unauthenticate() error {
	return p.Session.(imapserver.SessionUnauthenticate).Unauthenticate()
}

// AppendLimit passes the APPENDLIMIT on.
func (p passOn) AppendLimit() uint32 {
	return p.Session.(imapserver.SessionAppendLimit).AppendLimit()
}

// hasCode reports whether err is a response with the given response code.
func hasCode(err error, code imap.ResponseCode) bool {
	var e *imap.Error
	return errors.As(err, &e) && e.Code == code
}
