package faultimap

import (
	"io"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// CreateExistingSucceeds: CREATE of a mailbox that exists answers OK
// (imap.create.existing).
var CreateExistingSucceeds = eachSession(func(s passOn) imapserver.Session { return createExisting{s} })

type createExisting struct{ passOn }

func (s createExisting) Create(name string, options *imap.CreateOptions) error {
	err := s.passOn.Create(name, options)
	if hasCode(err, imap.ResponseCodeAlreadyExists) {
		return nil
	}
	return err
}

// DeleteInboxSucceeds: DELETE INBOX answers OK (and deletes nothing)
// (imap.delete.inbox).
var DeleteInboxSucceeds = eachSession(func(s passOn) imapserver.Session {
	return deleteSucceeds{s, func(name string, err error) bool {
		return strings.EqualFold(name, "INBOX") && hasCode(err, imap.ResponseCodeCannot)
	}}
})

// DeleteMissingSucceeds: DELETE of a mailbox that does not exist answers
// OK (imap.delete.missing).
var DeleteMissingSucceeds = eachSession(func(s passOn) imapserver.Session {
	return deleteSucceeds{s, func(_ string, err error) bool { return hasCode(err, imap.ResponseCodeNonExistent) }}
})

// deleteSucceeds answers OK to the DELETEs the backend refuses that
// refused says.
type deleteSucceeds struct {
	passOn
	refused func(name string, err error) bool
}

func (s deleteSucceeds) Delete(name string) error {
	err := s.passOn.Delete(name)
	if s.refused(name, err) {
		return nil
	}
	return err
}

// AppendCreatesMailbox: APPEND to a missing mailbox creates it and
// succeeds (imap.append.missing-mailbox).
var AppendCreatesMailbox = eachSession(func(s passOn) imapserver.Session { return appendCreates{s} })

type appendCreates struct{ passOn }

func (s appendCreates) Append(name string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	data, err := s.passOn.Append(name, r, options)
	if !hasCode(err, imap.ResponseCodeTryCreate) {
		return data, err
	}
	// The backend refuses a missing mailbox before it reads the literal.
	if err := s.Create(name, nil); err != nil {
		return nil, err
	}
	return s.passOn.Append(name, r, options)
}

// AppendNoTryCreate: APPEND to a missing mailbox answers NO without the
// [TRYCREATE] response code (imap.append.trycreate).
var AppendNoTryCreate = eachSession(func(s passOn) imapserver.Session { return appendNoTryCreate{s} })

type appendNoTryCreate struct{ passOn }

func (s appendNoTryCreate) Append(name string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	data, err := s.passOn.Append(name, r, options)
	if hasCode(err, imap.ResponseCodeTryCreate) {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "No such mailbox"}
	}
	return data, err
}

// AppendAltersMessage: APPEND stores the message with a header field added
// in front (imap.append.content-exact).
var AppendAltersMessage = eachSession(func(s passOn) imapserver.Session { return appendAlters{s} })

type appendAlters struct{ passOn }

// addedField is the header field AppendAltersMessage puts in front.
const addedField = "X-Mailcheck-Altered: yes\r\n"

func (s appendAlters) Append(name string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	altered := literal{io.MultiReader(strings.NewReader(addedField), r), r.Size() + int64(len(addedField))}
	return s.passOn.Append(name, altered, options)
}

// literal is an imap.LiteralReader over any reader.
type literal struct {
	io.Reader
	size int64
}

func (l literal) Size() int64 { return l.size }

// StatusCountOffByOne: STATUS reports one message more than the mailbox
// holds (imap.status.messages).
var StatusCountOffByOne = eachSession(func(s passOn) imapserver.Session { return statusOffByOne{s} })

type statusOffByOne struct{ passOn }

func (s statusOffByOne) Status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	data, err := s.passOn.Status(name, options)
	if data != nil && data.NumMessages != nil {
		n := *data.NumMessages + 1
		data.NumMessages = &n
	}
	return data, err
}
