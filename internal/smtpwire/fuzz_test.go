package smtpwire

import (
	"bytes"
	"testing"
)

// The fuzz targets below check the wire pieces the server and the tools
// share against properties taken from the RFCs, not against the code's own
// idea of them. Seeds are added here and committed under
// testdata/fuzz/<FuzzName>, so `go test ./...` runs them.

// FuzzDotWriter checks the two dot-stuffers (RFC 5321 §4.5.2) against each
// other and against the receiver's rule: DotWriter, however the message is
// split into writes, produces exactly AppendDotStuffed's bytes; the data
// ends with CRLF "." CRLF and holds no earlier end of data, even for a
// receiver that also takes a bare LF as a line end; and removing one
// leading dot from each line gives the message back (with a final CRLF
// added if it had none), for any message whose line ends are all CRLF.
func FuzzDotWriter(f *testing.F) {
	for _, seed := range []string{
		"", ".", "..", ".\r\n", "a\r\n.\r\nb\r\n", "a\n.\nb", "a\r.\r", "x\r\n..\r\n.x\r\n",
		"\r\n.\r\n", "no final line end", "ends in CR\r", "a\n.\r\nMAIL FROM:<x@y>\r\n",
	} {
		f.Add([]byte(seed), uint16(1))
	}
	f.Fuzz(func(t *testing.T, msg []byte, splits uint16) {
		want := AppendDotStuffed(nil, msg)
		var got bytes.Buffer
		d := NewDotWriter(&got)
		// Split the message into writes at points the fuzzer picks.
		rest, step := msg, int(splits%17)
		for len(rest) > 0 {
			n := min(len(rest), step+1)
			if _, err := d.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
			step = (step*7 + 3) % 17
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("DotWriter wrote %q, AppendDotStuffed %q, for %q", got.Bytes(), want, msg)
		}
		if !bytes.HasSuffix(want, []byte(".\r\n")) || (len(want) > 3 && !bytes.HasSuffix(want, []byte("\r\n.\r\n"))) {
			t.Fatalf("data %q does not end with CRLF.CRLF", want)
		}
		body := want[:len(want)-3]
		if bytes.HasPrefix(body, []byte(".\r\n")) || bytes.Contains(body, []byte("\n.\r\n")) || bytes.Contains(body, []byte("\n.\n")) {
			t.Fatalf("data %q for %q holds an end of data before its end", want, msg)
		}
		if hasBareCROrLF(msg) {
			return
		}
		var unstuffed []byte
		for line := range bytes.SplitAfterSeq(body, []byte("\r\n")) {
			unstuffed = append(unstuffed, bytes.TrimPrefix(line, []byte("."))...)
		}
		wantBack := msg
		if len(msg) > 0 && !bytes.HasSuffix(msg, []byte("\r\n")) {
			wantBack = append(bytes.Clone(msg), '\r', '\n')
		}
		if !bytes.Equal(unstuffed, wantBack) {
			t.Fatalf("data %q unstuffs to %q, want %q", want, unstuffed, wantBack)
		}
	})
}

// hasBareCROrLF reports a CR not followed by LF or an LF not preceded by
// CR (RFC 5321 §2.3.8: only CRLF ends a line).
func hasBareCROrLF(b []byte) bool {
	for i, c := range b {
		if c == '\r' && (i+1 >= len(b) || b[i+1] != '\n') || c == '\n' && (i == 0 || b[i-1] != '\r') {
			return true
		}
	}
	return false
}
