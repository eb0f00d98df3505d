package imapbackend

import (
	"bytes"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/mailcheck/mailcheck/reference/mailstore"
)

// Fetch serves FETCH and UID FETCH (RFC 9051 §6.4.5). A body section without
// .PEEK sets \Seen (unless the mailbox is read-only), and the new flags are
// part of the FETCH response.
func (s *session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	uids := s.sel.resolve(numSet)
	seen := !s.sel.readOnly && (slices.ContainsFunc(options.BodySection, func(b *imap.FetchItemBodySection) bool { return !b.Peek }) ||
		slices.ContainsFunc(options.BinarySection, func(b *imap.FetchItemBinarySection) bool { return !b.Peek }))
	seenNow := map[uint32]bool{}
	if seen {
		changed, err := s.sel.mb.SetFlags(uids, mailstore.FlagsAdd, []string{mailstore.FlagSeen}, s.sel.view)
		if err != nil {
			return imapError(err)
		}
		for _, c := range changed {
			seenNow[c.UID] = true
		}
	}
	// The flags reported are those of now, which supersede the updates
	// pending for them.
	reportsFlags := func(uid uint32) bool { return options.Flags || seenNow[uid] }
	targets, err := s.sel.messages(uids, reportsFlags)
	if err != nil {
		return err
	}
	var flagSets [][]string
	for _, t := range targets {
		if reportsFlags(t.msg.UID) {
			flagSets = append(flagSets, t.msg.Flags)
		}
	}
	if err := s.announceInline(flagSets); err != nil {
		return err
	}
	needContent := options.Envelope || options.BodyStructure != nil || len(options.BodySection) > 0 ||
		len(options.BinarySection) > 0 || len(options.BinarySectionSize) > 0
	for _, t := range targets {
		var content []byte
		if needContent {
			if content, err = s.sel.mb.Read(t.msg.UID); err != nil {
				// Expunged by another session since: RFC 2180 §4.1.2
				// lets the server omit it.
				continue
			}
		}
		opts := *options
		// A \Seen set by this FETCH makes FLAGS part of the response
		// (RFC 9051 §6.4.5).
		opts.Flags = reportsFlags(t.msg.UID)
		t.msg.Flags = s.flagsForClient(t.msg)
		var env *envelope
		if opts.Envelope {
			env = envelopeOf(content)
		}
		raw := splitRawItems(&opts, env)
		// A response with no item at all is still written when there is
		// nothing raw to carry (as before the split: a FETCH of no item the
		// server writes is answered "* n FETCH ()").
		if hasFetchItems(&opts) || raw.empty() {
			if err := writeFetch(w.CreateMessage(t.seq), t.msg, content, env, &opts); err != nil {
				return err
			}
		}
		if !raw.empty() {
			if err := s.writeRawFetch(t.seq, t.msg.UID, opts.UID, content, raw); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeFetch(rw *imapserver.FetchResponseWriter, m mailstore.Message, content []byte, env *envelope, options *imap.FetchOptions) error {
	if options.UID {
		rw.WriteUID(imap.UID(m.UID))
	}
	if options.Flags {
		rw.WriteFlags(toIMAPFlags(m.Flags))
	}
	if options.InternalDate {
		rw.WriteInternalDate(m.Date)
	}
	if options.RFC822Size {
		rw.WriteRFC822Size(m.Size)
	}
	if options.Envelope && env != nil {
		rw.WriteEnvelope(env.env)
	}
	if options.BodyStructure != nil {
		rw.WriteBodyStructure(imapserver.ExtractBodyStructure(bytes.NewReader(content)))
	}
	for _, bs := range options.BodySection {
		buf := imapserver.ExtractBodySection(bytes.NewReader(content), bs)
		if err := writeLiteral(rw.WriteBodySection(bs, int64(len(buf))), buf); err != nil {
			return err
		}
	}
	for _, bs := range options.BinarySection {
		buf := imapserver.ExtractBinarySection(bytes.NewReader(content), bs)
		if err := writeLiteral(rw.WriteBinarySection(bs, int64(len(buf))), buf); err != nil {
			return err
		}
	}
	for _, bss := range options.BinarySectionSize {
		rw.WriteBinarySectionSize(bss, imapserver.ExtractBinarySectionSize(bytes.NewReader(content), bss))
	}
	return rw.Close()
}

func writeLiteral(wc interface {
	Write([]byte) (int, error)
	Close() error
}, buf []byte) error {
	_, err := wc.Write(buf)
	if cerr := wc.Close(); err == nil {
		err = cerr
	}
	return err
}
