package imapbackend

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/mailcheck/mailcheck/reference/mailstore"
)

// session is one IMAP connection's state: the user once logged in, and the
// selected mailbox.
type session struct {
	backend *Backend
	conn    *imapserver.Conn
	user    string
	sel     *selected // nil when no mailbox is selected
	closed  bool
}

var _ imapserver.SessionIMAP4rev2 = (*session)(nil)
var _ imapserver.SessionUnauthenticate = (*session)(nil)
var _ imapserver.SessionAppendLimit = (*session)(nil)

func (s *session) store() *mailstore.Store { return s.backend.opts.Store }

// Close ends the session when its connection ends, and gives its slot
// back to MaxConnections.
func (s *session) Close() error {
	s.Unselect()
	if !s.closed {
		s.closed = true
		s.backend.sessions.Add(-1)
	}
	return nil
}

// Login serves LOGIN and AUTHENTICATE PLAIN. A failure is the same for an
// unknown user and a wrong password, and is answered after a delay that
// grows with the client's failures (LoginThrottle). Neither the password
// nor the name as given is logged (it may be a password typed into the
// wrong field): only the account's name, if it exists.
func (s *session) Login(username, password string) error {
	user, err := s.backend.opts.Authenticate(context.Background(), username, password)
	if err != nil {
		remote := s.conn.NetConn().RemoteAddr()
		delay := s.backend.opts.LoginThrottle.Failure(remote)
		s.backend.opts.Logger.Info("authentication failed", "remote", remote.String(), "user", user, "delay", delay)
		time.Sleep(delay)
		return imapserver.ErrAuthFailed
	}
	s.user = user
	return nil
}

// Unauthenticate serves UNAUTHENTICATE (RFC 8437).
func (s *session) Unauthenticate() error {
	s.Unselect()
	s.user = ""
	return nil
}

// AppendLimit is MaxAppendBytes: imapserver advertises it as APPENDLIMIT
// (RFC 7889) and refuses a larger APPEND literal with NO [TOOBIG] from the
// size it announces, before reading it.
func (s *session) AppendLimit() uint32 { return uint32(s.backend.opts.MaxAppendBytes) }

// Namespace: one personal namespace, no prefix, "." as delimiter (RFC 2342).
func (s *session) Namespace() (*imap.NamespaceData, error) {
	return &imap.NamespaceData{Personal: []imap.NamespaceDescriptor{{Prefix: "", Delim: mailstore.Delimiter}}}, nil
}

func (s *session) Create(name string, _ *imap.CreateOptions) error {
	// RFC 9051 §6.3.4: a trailing delimiter declares intent to create
	// inferior names; the mailbox is created without it.
	name = strings.TrimSuffix(name, string(mailstore.Delimiter))
	return imapError(s.store().CreateMailbox(s.user, name))
}

func (s *session) Delete(name string) error {
	return imapError(s.store().DeleteMailbox(s.user, name))
}

func (s *session) Rename(oldName, newName string, _ *imap.RenameOptions) error {
	return imapError(s.store().RenameMailbox(s.user, oldName, newName))
}

func (s *session) Subscribe(name string) error {
	return imapError(s.store().SetSubscribed(s.user, name, true))
}

func (s *session) Unsubscribe(name string) error {
	return imapError(s.store().SetSubscribed(s.user, name, false))
}

// List serves LIST and LSUB with the LIST-EXTENDED selection and return
// options (RFC 5258), CHILDREN (RFC 3348) and LIST-STATUS (RFC 5819).
func (s *session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	if len(patterns) == 0 {
		// RFC 9051 §6.3.9: an empty pattern asks for the delimiter.
		return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: mailstore.Delimiter})
	}
	names, err := s.store().ListMailboxes(s.user)
	if err != nil {
		return err
	}
	subs, err := s.store().Subscriptions(s.user)
	if err != nil {
		return err
	}
	exists := func(n string) bool { _, ok := slices.BinarySearch(names[1:], n); return ok || n == "INBOX" }
	hasChildren := func(n string) bool {
		return slices.ContainsFunc(names, func(c string) bool { return strings.HasPrefix(c, n+string(mailstore.Delimiter)) })
	}
	// Candidates: every mailbox, every parent level implied by a deeper one
	// (listed as \NonExistent), and, for subscription listings, every
	// subscribed name.
	candidates := slices.Clone(names)
	for _, n := range names {
		for i := strings.IndexRune(n, mailstore.Delimiter); i > 0; i = nextDelim(n, i) {
			candidates = append(candidates, n[:i])
		}
	}
	if options.SelectSubscribed {
		candidates = append(candidates, subs...)
	}
	slices.Sort(candidates)
	candidates = slices.Compact(candidates)
	if i := slices.Index(candidates, "INBOX"); i > 0 {
		candidates = append([]string{"INBOX"}, slices.Delete(candidates, i, i+1)...)
	}
	for _, name := range candidates {
		if !slices.ContainsFunc(patterns, func(p string) bool { return imapserver.MatchList(name, mailstore.Delimiter, ref, p) }) {
			continue
		}
		subscribed := slices.Contains(subs, name)
		childSubscribed := subscribedBelowPatterns(name, subs, ref, patterns)
		lsubParent := !subscribed && childSubscribed && isLSub(w)
		if options.SelectSubscribed && !subscribed && !(options.SelectRecursiveMatch && childSubscribed) && !lsubParent {
			continue
		}
		data := &imap.ListData{Mailbox: name, Delim: mailstore.Delimiter}
		if lsubParent {
			data.Attrs = append(data.Attrs, imap.MailboxAttrNoSelect)
		} else if !exists(name) {
			data.Attrs = append(data.Attrs, imap.MailboxAttrNonExistent)
		}
		if hasChildren(name) {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasChildren)
		} else {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasNoChildren)
		}
		if subscribed && (options.ReturnSubscribed || options.SelectSubscribed) {
			data.Attrs = append(data.Attrs, imap.MailboxAttrSubscribed)
		}
		if options.SelectRecursiveMatch && !subscribed && childSubscribed {
			data.ChildInfo = &imap.ListDataChildInfo{Subscribed: true}
		}
		if options.ReturnStatus != nil && exists(name) {
			if st, err := s.Status(name, options.ReturnStatus); err == nil {
				data.Status = st
			}
		}
		if err := w.WriteList(data); err != nil {
			return err
		}
	}
	return nil
}

func nextDelim(name string, after int) int {
	i := strings.IndexRune(name[after+1:], mailstore.Delimiter)
	if i < 0 {
		return -1
	}
	return after + 1 + i
}

// Status serves STATUS (RFC 9051 §6.3.11).
func (s *session) Status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	mb, err := s.store().Mailbox(s.user, name)
	if err != nil {
		return nil, imapError(err)
	}
	msgs, err := mb.Messages()
	if err != nil {
		return nil, imapError(err)
	}
	data := &imap.StatusData{Mailbox: mb.Name()}
	count := func(flag string) uint32 {
		var n uint32
		for _, m := range msgs {
			if slices.Contains(m.Flags, flag) {
				n++
			}
		}
		return n
	}
	if options.NumMessages {
		n := uint32(len(msgs))
		data.NumMessages = &n
	}
	if options.UIDNext {
		data.UIDNext = imap.UID(mb.UIDNext())
	}
	if options.UIDValidity {
		data.UIDValidity = mb.UIDValidity()
	}
	if options.NumUnseen {
		n := uint32(len(msgs)) - count(mailstore.FlagSeen)
		data.NumUnseen = &n
	}
	if options.NumDeleted {
		n := count(mailstore.FlagDeleted)
		data.NumDeleted = &n
	}
	if options.Size {
		var size int64
		for _, m := range msgs {
			size += m.Size
		}
		data.Size = &size
	}
	if options.NumRecent {
		// The messages no session has claimed yet (recent.go).
		n := s.backend.recent.of(mb).unclaimed(msgs)
		data.NumRecent = &n
	}
	return data, nil
}

// Append serves APPEND (RFC 9051 §6.3.12). A missing mailbox gets
// NO [TRYCREATE] and nothing is created.
func (s *session) Append(name string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	mb, err := s.store().Mailbox(s.user, name)
	if errors.Is(err, mailstore.ErrNoMailbox) {
		return nil, errTryCreate
	}
	if err != nil {
		return nil, imapError(err)
	}
	flags, err := storableFlags(options.Flags)
	if err != nil {
		return nil, err
	}
	uid, err := mb.Append(literalSafeReader(r), flags, options.Time)
	if err != nil {
		return nil, imapError(err)
	}
	return &imap.AppendData{UID: imap.UID(uid), UIDValidity: mb.UIDValidity()}, nil
}

// storableFlags checks flags a client wants stored: system flags other than
// the five of RFC 9051 §2.3.2 (\Recent, or one made up) cannot be set.
func storableFlags(flags []imap.Flag) ([]string, error) {
	out := fromIMAPFlags(flags)
	for _, f := range out {
		if strings.HasPrefix(f, `\`) && !slices.Contains(systemFlags, mailstore.CanonicalFlag(f)) {
			return nil, &imap.Error{Type: imap.StatusResponseTypeBad, Code: imap.ResponseCodeClientBug, Text: "Flag " + f + " cannot be set"}
		}
	}
	return out, nil
}

var systemFlags = []string{mailstore.FlagAnswered, mailstore.FlagDeleted, mailstore.FlagDraft, mailstore.FlagFlagged, mailstore.FlagSeen}

// Poll delivers the changes to the selected mailbox that the session has
// not been told of (RFC 9051 §5.2); imapserver says when EXPUNGE is allowed.
func (s *session) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if s.sel == nil {
		return nil
	}
	return s.sel.view.deliver(w, allowExpunge)
}

// Idle serves IDLE (RFC 2177): updates are written as they happen, an SMTP
// delivery included.
func (s *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if s.sel == nil {
		<-stop
		return nil
	}
	return s.sel.view.idle(w, stop)
}
