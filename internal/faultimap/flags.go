package faultimap

import (
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// StoreNoFetch: STORE without .SILENT answers no FETCH
// (imap.store.fetch-response).
var StoreNoFetch = eachSession(func(s passOn) imapserver.Session { return storeSilence{s, true} })

// StoreIgnoresSilent: STORE answers FETCH even with .SILENT
// (imap.store.silent).
var StoreIgnoresSilent = eachSession(func(s passOn) imapserver.Session { return storeSilence{s, false} })

// storeSilence makes every STORE silent, or none.
type storeSilence struct {
	passOn
	silent bool
}

func (s storeSilence) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	changed := *flags
	changed.Silent = s.silent
	return s.passOn.Store(w, numSet, &changed, options)
}

// BodyNoSeen: FETCH BODY[] does not set \Seen (imap.fetch.body-sets-seen).
var BodyNoSeen = eachSession(func(s passOn) imapserver.Session { return fetchPeek{s, true} })

// PeekSetsSeen: FETCH BODY.PEEK[] sets \Seen (imap.fetch.peek-no-seen).
var PeekSetsSeen = eachSession(func(s passOn) imapserver.Session { return fetchPeek{s, false} })

// fetchPeek takes every body section of a FETCH as BODY.PEEK[], or every
// one as BODY[].
type fetchPeek struct {
	passOn
	peek bool
}

func (s fetchPeek) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	// In place: go-imap knows the sections of RFC822 and RFC822.TEXT by
	// their pointers, to name them so in the response.
	for _, b := range options.BodySection {
		b.Peek = s.peek
	}
	for _, b := range options.BinarySection {
		b.Peek = s.peek
	}
	return s.passOn.Fetch(w, numSet, options)
}

// ExamineSetsSeen: FETCH BODY[] sets \Seen in a mailbox opened with
// EXAMINE (imap.examine.no-seen). The backend opens the mailbox
// read-write, and the wrapper keeps it read-only in everything else.
var ExamineSetsSeen = eachSession(func(s passOn) imapserver.Session { return &examineSetsSeen{passOn: s} })

type examineSetsSeen struct {
	passOn
	readOnly bool
}

// errReadOnly is the backend's answer to a change in a read-only mailbox.
var errReadOnly = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "Mailbox is read-only (EXAMINE)"}

func (s *examineSetsSeen) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	s.readOnly = options.ReadOnly
	readWrite := *options
	readWrite.ReadOnly = false
	data, err := s.passOn.Select(name, &readWrite)
	if data != nil && s.readOnly {
		data.PermanentFlags = nil // a read-only mailbox keeps none
	}
	return data, err
}

func (s *examineSetsSeen) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	if s.readOnly {
		return errReadOnly
	}
	return s.passOn.Store(w, numSet, flags, options)
}

func (s *examineSetsSeen) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	if s.readOnly {
		return nil
	}
	return s.passOn.Expunge(w, uids)
}

func (s *examineSetsSeen) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	if s.readOnly {
		return errReadOnly
	}
	return s.passOn.Move(w, numSet, dest)
}

// FlagsSessionOnly: STORE answers with the new flags but never writes them
// to the mailbox, so the next session does not see them
// (imap.flags.persist).
var FlagsSessionOnly = eachSession(func(s passOn) imapserver.Session { return &flagsSessionOnly{passOn: s} })

type flagsSessionOnly struct {
	passOn
	// known are the flags the session knows of: those SELECT listed and
	// those it stored since.
	known []string
}

func (s *flagsSessionOnly) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	data, err := s.passOn.Select(name, options)
	s.known = nil
	if data != nil {
		s.known = flagNames(data.Flags)
	}
	return data, err
}

func (s *flagsSessionOnly) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	// The backend judges the command (a read-only mailbox, a flag that
	// cannot be set) on a set naming no message, which stores nothing.
	probe := *flags
	probe.Silent = true
	if err := s.passOn.Store(w, imap.UIDSet{}, &probe, options); err != nil {
		return err
	}
	if flags.Silent {
		return nil
	}
	stored := flagNames(flags.Flags)
	for _, f := range stored {
		if !hasFlagFold(s.known, f) {
			s.known = append(s.known, f)
		}
	}
	targets, err := messagesOf(s.passOn, numSet)
	if err != nil {
		return err
	}
	for _, t := range targets {
		now, err := flagsOf(s.passOn, t.uid, s.known)
		if err != nil {
			return err
		}
		rw := w.CreateMessage(t.seq)
		rw.WriteUID(t.uid)
		rw.WriteFlags(toFlags(nextFlags(now, flags.Op, stored)))
		if err := rw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// nextFlags is what STORE would make of flags (RFC 9051 §6.4.6).
func nextFlags(flags []string, op imap.StoreFlagsOp, stored []string) []string {
	switch op {
	case imap.StoreFlagsSet:
		return slices.Clone(stored)
	case imap.StoreFlagsAdd:
		next := slices.Clone(flags)
		for _, f := range stored {
			if !hasFlagFold(next, f) {
				next = append(next, f)
			}
		}
		return next
	default:
		return slices.DeleteFunc(slices.Clone(flags), func(f string) bool { return hasFlagFold(stored, f) })
	}
}

func hasFlagFold(flags []string, flag string) bool {
	return slices.ContainsFunc(flags, func(f string) bool { return strings.EqualFold(f, flag) })
}

func flagNames(flags []imap.Flag) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = string(f)
	}
	return out
}

func toFlags(names []string) []imap.Flag {
	out := make([]imap.Flag, len(names))
	for i, n := range names {
		out[i] = imap.Flag(n)
	}
	return out
}
