package imapbackend

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// go-imap's FetchResponseWriter cannot write two FETCH items: a partial
// BINARY section with its origin, "BINARY[1]<10>" (RFC 3516 §4.2, RFC 9051
// §7.5.2: the origin says where the piece starts; without it the piece
// reads as the whole section), and an address with a source route, the
// ADL of RFC 9051 §7.5.2 (go-imap's Address has no field for it). Rather
// than fork go-imap, the backend answers those items in a FETCH response
// of its own, written on the connection after go-imap's response for the
// message has been flushed whole (each go-imap response ends with a
// flush). A message may have its data in several FETCH responses (RFC 9051
// §7.5.2 lets the server send FETCH data at any time; clients merge them);
// each carries UID when the command was UID FETCH (RFC 9051 §6.4.9).

// rawWriteTimeout bounds the write of a response the backend writes
// itself, as go-imap bounds its own (30 s).
const rawWriteTimeout = 30 * time.Second

// rawItems are the items of a FETCH the backend writes itself.
type rawItems struct {
	partial  []*imap.FetchItemBinarySection
	envelope *envelope // with a source route
}

func (r rawItems) empty() bool { return len(r.partial) == 0 && r.envelope == nil }

// splitRawItems takes out of options the items go-imap cannot write, for
// a message with envelope env, and returns them.
func splitRawItems(options *imap.FetchOptions, env *envelope) rawItems {
	var raw rawItems
	var kept []*imap.FetchItemBinarySection
	for _, bs := range options.BinarySection {
		if bs.Partial != nil {
			raw.partial = append(raw.partial, bs)
		} else {
			kept = append(kept, bs)
		}
	}
	options.BinarySection = kept
	if options.Envelope && env != nil && env.routed() {
		options.Envelope, raw.envelope = false, env
	}
	return raw
}

// hasFetchItems reports whether go-imap has any item left to write: a
// FETCH response must carry at least one (RFC 9051 §9, msg-att).
func hasFetchItems(o *imap.FetchOptions) bool {
	return o.UID || o.Flags || o.InternalDate || o.RFC822Size || o.Envelope || o.BodyStructure != nil ||
		len(o.BodySection) > 0 || len(o.BinarySection) > 0 || len(o.BinarySectionSize) > 0
}

// writeRawFetch writes "* seq FETCH (...)" with the raw items, and UID
// first when withUID.
func (s *session) writeRawFetch(seq, uid uint32, withUID bool, content []byte, raw rawItems) error {
	var items [][]byte
	if withUID {
		items = append(items, []byte("UID "+strconv.FormatUint(uint64(uid), 10)))
	}
	if raw.envelope != nil {
		items = append(items, append([]byte("ENVELOPE "), raw.envelope.wire()...))
	}
	for _, bs := range raw.partial {
		piece := imapserver.ExtractBinarySection(bytes.NewReader(content), bs)
		// RFC 3516 §4.2: "BINARY[" section-binary "]<" origin ">" SP
		// literal8; a literal8 carries any octet.
		item := "BINARY[" + sectionPart(bs.Part) + "]<" + strconv.FormatInt(bs.Partial.Offset, 10) + "> ~{" +
			strconv.Itoa(len(piece)) + "}\r\n"
		items = append(items, append([]byte(item), piece...))
	}
	resp := []byte("* " + strconv.FormatUint(uint64(seq), 10) + " FETCH (")
	resp = append(resp, bytes.Join(items, []byte(" "))...)
	return s.writeRaw(append(resp, ")\r\n"...))
}

// sectionPart renders a section part number, "1.2".
func sectionPart(part []int) string {
	s := make([]string, len(part))
	for i, n := range part {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ".")
}

// writeRaw writes a whole response on the connection, bounded in time:
// the FETCH items and the inline FLAGS go-imap has no writer for.
func (s *session) writeRaw(resp []byte) error {
	conn := s.conn.NetConn()
	if err := conn.SetWriteDeadline(time.Now().Add(rawWriteTimeout)); err != nil {
		return err
	}
	defer conn.SetWriteDeadline(time.Time{})
	_, err := conn.Write(resp)
	return err
}
