package imapbackend

import (
	"bytes"
	"io"

	gomessage "github.com/emersion/go-message"
)

// literalSafeReader is literalSafe over a reader. The mailstore reads the
// whole message into memory anyway, so reading it first costs nothing.
func literalSafeReader(r io.Reader) io.Reader {
	data, err := io.ReadAll(r)
	if err != nil {
		return io.MultiReader(bytes.NewReader(data), errReader{err})
	}
	return bytes.NewReader(literalSafe(data))
}

// errReader passes a read error on to the mailstore.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// literalSafe returns the message APPEND stores. A message with a NUL octet
// (binary content, which only a literal8 can carry: RFC 3516 §4.4) is
// stored with each part holding a NUL re-encoded as base64: a literal may
// not carry NUL (RFC 9051 §9, literal = ... *CHAR8, CHAR8 = %x01-ff), and
// BODY[...] is answered with a literal, never a literal8 (RFC 3516 §4.2).
// BINARY[...] decodes the base64 back to the octets that were appended.
// Any other message is stored exactly as given.
func literalSafe(data []byte) []byte {
	if bytes.IndexByte(data, 0) < 0 {
		return data
	}
	e, err := gomessage.Read(bytes.NewReader(data))
	if err != nil && e == nil {
		return data
	}
	var out bytes.Buffer
	if err := writeLiteralSafe(&out, e); err != nil {
		return data
	}
	return out.Bytes()
}

// writeLiteralSafe writes e with base64 for each leaf part holding a NUL.
// The parts around it are rewritten too (go-message decodes and encodes
// each part again), which only a message with binary content pays.
func writeLiteralSafe(w io.Writer, e *gomessage.Entity) error {
	var body []byte
	if e.MultipartReader() == nil {
		var err error
		if body, err = leafBody(e); err != nil {
			return err
		}
	}
	ew, err := gomessage.CreateWriter(w, e.Header)
	if err != nil {
		return err
	}
	if err := writeBody(ew, e, body); err != nil {
		return err
	}
	return ew.Close()
}

// writeBody writes e's body through ew, the writer made for e's header:
// a leaf's body as given, a multipart's parts one by one.
func writeBody(ew *gomessage.Writer, e *gomessage.Entity, body []byte) error {
	mr := e.MultipartReader()
	if mr == nil {
		_, err := ew.Write(body)
		return err
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var partBody []byte
		if part.MultipartReader() == nil {
			if partBody, err = leafBody(part); err != nil {
				return err
			}
		}
		pw, err := ew.CreatePart(part.Header)
		if err != nil {
			return err
		}
		if err := writeBody(pw, part, partBody); err != nil {
			return err
		}
		if err := pw.Close(); err != nil {
			return err
		}
	}
}

// leafBody reads a leaf part's (decoded) body and, when it holds a NUL,
// marks the part for base64.
func leafBody(e *gomessage.Entity) ([]byte, error) {
	body, err := io.ReadAll(e.Body)
	if err != nil {
		return nil, err
	}
	if bytes.IndexByte(body, 0) >= 0 {
		e.Header.Set("Content-Transfer-Encoding", "base64")
	}
	return body, nil
}
