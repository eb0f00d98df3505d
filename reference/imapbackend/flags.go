package imapbackend

import (
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// mailboxFlags is the FLAGS response's list: the system flags and the
// keywords in use (RFC 9051 §7.3.5).
func mailboxFlags(keywords []string) []imap.Flag {
	return toIMAPFlags(append(slices.Clone(systemFlags), keywords...))
}

// announceInline tells the client of the keywords among flagSets it does
// not know yet, with an untagged FLAGS response written in the middle of a
// FETCH or STORE, before the FETCH responses that use them (see
// view.announce for why). imapserver offers no FLAGS writer to FETCH and
// STORE, so it is written on the connection directly. It cannot land in
// the middle of another response: FETCH and STORE call it before their
// first response; imapserver flushes each response whole (its encoder
// flushes at every response's CRLF), so nothing of go-imap's is buffered
// then; and the one writer besides this command, a BYE at shutdown, is
// one Write of its own, which the connection does not interleave with
// this one.
func (s *session) announceInline(flagSets [][]string) error {
	v := s.sel.view
	grew := false
	for _, flags := range flagSets {
		grew = v.announced.add(flags) || grew
	}
	if !grew {
		return nil
	}
	return s.writeRaw([]byte("* FLAGS (" + strings.Join(fromIMAPFlags(mailboxFlags(v.announced.list)), " ") + ")\r\n"))
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
