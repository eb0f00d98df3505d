package faultimap

import (
	"slices"
	"sync/atomic"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// UIDNextTooLow: SELECT reports UIDNEXT one lower than it is, which is the
// highest UID in use while the newest message is there
// (imap.uid.below-uidnext).
var UIDNextTooLow = eachSession(func(s passOn) imapserver.Session { return uidNextTooLow{s} })

type uidNextTooLow struct{ passOn }

func (s uidNextTooLow) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	data, err := s.passOn.Select(name, options)
	if data != nil && data.UIDNext > 1 {
		data.UIDNext--
	}
	return data, err
}

// UIDValidityPerLogin: every login sees a new, higher UIDVALIDITY (the
// same all through its session), with the same UIDs: allowed, but UIDs
// SHOULD persist across sessions (imap.uidvalidity.stable).
var UIDValidityPerLogin = &Wrapper{forServer: func() func(imapserver.Session, *imapserver.Conn) imapserver.Session {
	logins := new(atomic.Uint32)
	return func(s imapserver.Session, _ *imapserver.Conn) imapserver.Session {
		return &uidValidityShift{passOn: passOn{s}, shift: func(v uint32) uint32 { return v }, logins: logins}
	}
}}

// FixedUIDValidity: every mailbox reports UIDVALIDITY 1, so a mailbox
// deleted and created again reuses both UIDVALIDITY and its UIDs
// (imap.uidvalidity.recreate).
var FixedUIDValidity = eachSession(func(s passOn) imapserver.Session {
	return &uidValidityShift{passOn: s, shift: func(uint32) uint32 { return 1 }}
})

// uidValidityShift changes every UIDVALIDITY the session reports (SELECT,
// STATUS, APPENDUID) with shift; with logins, each login adds its number.
type uidValidityShift struct {
	passOn
	shift  func(uint32) uint32
	logins *atomic.Uint32
	bump   uint32
}

func (s *uidValidityShift) Login(username, password string) error {
	err := s.passOn.Login(username, password)
	if err == nil && s.logins != nil {
		s.bump = s.logins.Add(1)
	}
	return err
}

func (s *uidValidityShift) reported(v uint32) uint32 { return s.shift(v) + s.bump }

func (s *uidValidityShift) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	data, err := s.passOn.Select(name, options)
	if data != nil {
		data.UIDValidity = s.reported(data.UIDValidity)
	}
	return data, err
}

func (s *uidValidityShift) Status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	data, err := s.passOn.Status(name, options)
	if data != nil && options.UIDValidity {
		data.UIDValidity = s.reported(data.UIDValidity)
	}
	return data, err
}

func (s *uidValidityShift) Append(name string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	data, err := s.passOn.Append(name, r, options)
	if data != nil {
		data.UIDValidity = s.reported(data.UIDValidity)
	}
	return data, err
}

// UIDFetchOmitsUID: FETCH responses never carry UID, not even those to
// UID FETCH (imap.uid.fetch-includes-uid).
var UIDFetchOmitsUID = eachSession(func(s passOn) imapserver.Session { return fetchOmitsUID{s} })

type fetchOmitsUID struct{ passOn }

func (s fetchOmitsUID) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	without := *options
	without.UID = false
	return s.passOn.Fetch(w, numSet, &without)
}

// StarRangeExact: a UID range "n:*" with n above the highest UID matches
// nothing (imap.uid.star-range), in FETCH, STORE, COPY and MOVE.
var StarRangeExact = eachSession(func(s passOn) imapserver.Session { return starRangeExact{s} })

type starRangeExact struct{ passOn }

// exact drops from a UID set every "n:*" with n above the highest UID,
// which RFC 9051 §6.4.8 says still names the message with the highest
// UID.
func (s starRangeExact) exact(numSet imap.NumSet) (imap.NumSet, error) {
	set, ok := numSet.(imap.UIDSet)
	if !ok {
		return numSet, nil
	}
	all, err := s.Search(imapserver.NumKindUID, &imap.SearchCriteria{}, &imap.SearchOptions{})
	if err != nil {
		return nil, err
	}
	highest := imap.UID(all.Max)
	return slices.DeleteFunc(slices.Clone(set), func(r imap.UIDRange) bool { return r.Stop == 0 && r.Start > highest }), nil
}

func (s starRangeExact) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	set, err := s.exact(numSet)
	if err != nil {
		return err
	}
	return s.passOn.Fetch(w, set, options)
}

func (s starRangeExact) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	set, err := s.exact(numSet)
	if err != nil {
		return err
	}
	return s.passOn.Store(w, set, flags, options)
}

func (s starRangeExact) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	set, err := s.exact(numSet)
	if err != nil {
		return nil, err
	}
	return s.passOn.Copy(set, dest)
}

func (s starRangeExact) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	set, err := s.exact(numSet)
	if err != nil {
		return err
	}
	return s.passOn.Move(w, set, dest)
}
