package compose

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// Whole prepares a whole message given by the user (send --data) for SMTP:
// lines ending in LF alone, as files on Unix have them, get CRLF (RFC 5322
// §2.1); a CR not followed by LF is refused rather than guessed at, since
// servers refuse it too (bare CR, RFC 5321 §2.3.8). fields, when given, are
// put at the top. It returns the message and its Message-ID ("" when it
// has none).
func Whole(data []byte, fields []Field) ([]byte, string, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, "", errors.New("the message is empty")
	}
	line := 1
	for i, c := range data {
		switch {
		case c == '\n':
			line++
		case c == '\r' && (i+1 == len(data) || data[i+1] != '\n'):
			return nil, "", fmt.Errorf("line %d: a CR not followed by LF (bare CR)", line)
		}
	}
	var out []byte
	for _, f := range fields {
		if err := f.check(); err != nil {
			return nil, "", err
		}
		out = append(out, f.Name+": "+encodeText(f.Value)+"\r\n"...)
	}
	out = append(out, CRLF(data)...)
	if !bytes.HasSuffix(out, []byte("\r\n")) {
		out = append(out, '\r', '\n')
	}
	return out, MessageID(out), nil
}

// MessageID returns the Message-ID field of msg's header (unfolded), ""
// when it has none or the header does not parse.
func MessageID(msg []byte) string {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(msg)))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(h.Get("Message-Id"))
}
