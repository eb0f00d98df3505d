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
	targets, err := s.sel.resolve(numSet)
	if err != nil {
		return err
	}
	seen := !s.sel.readOnly && (slices.ContainsFunc(options.BodySection, func(b *imap.FetchItemBodySection) bool { return !b.Peek }) ||
		slices.ContainsFunc(options.BinarySection, func(b *imap.FetchItemBinarySection) bool { return !b.Peek }))
	var seenNow map[uint32][]string
	if seen {
		var unseen []uint32
		for _, t := range targets {
			if !slices.Contains(t.msg.Flags, mailstore.FlagSeen) {
				unseen = append(unseen, t.msg.UID)
			}
		}
		changed, err := s.sel.mb.SetFlags(unseen, mailstore.FlagsAdd, []string{mailstore.FlagSeen}, s.sel.tracker)
		if err != nil {
			return imapError(err)
		}
		seenNow = make(map[uint32][]string, len(changed))
		for _, c := range changed {
			seenNow[c.UID] = c.Flags
		}
	}
	needContent := options.Envelope || options.BodyStructure != nil || len(options.BodySection) > 0 ||
		len(options.BinarySection) > 0 || len(options.BinarySectionSize) > 0
	for _, t := range targets {
		var content []byte
		if needContent {
			if content, err = s.sel.mb.Read(t.msg.UID); err != nil {
				// Expunged by another session since the set was resolved:
				// RFC 9051 §5.5 lets the server omit it.
				continue
			}
		}
		opts := *options
		if flags, changed := seenNow[t.msg.UID]; changed {
			// The new flags are part of the response.
			t.msg.Flags, opts.Flags = flags, true
		}
		t.msg.Flags = s.flagsForClient(t.msg)
		seq := s.sel.wireSeq(t.seq)
		var env *envelope
		if opts.Envelope {
			env = envelopeOf(content)
		}
		raw := splitRawItems(&opts, env)
		// A response with no item at all is still written when there is
		// nothing raw to carry (as before the split: a FETCH of no item the
		// server writes is answered "* n FETCH ()").
		if hasFetchItems(&opts) || raw.empty() {
			if err := writeFetch(w.CreateMessage(seq), t.msg, content, env, &opts); err != nil {
				return err
			}
		}
		if !raw.empty() {
			if err := s.writeRawFetch(seq, t.msg.UID, opts.UID, content, raw); err != nil {
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
