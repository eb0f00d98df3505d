package smtpserver

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// FuzzReadDataWire feeds readData arbitrary bytes as they could come off
// the wire — not only what a dot-stuffer writes, as FuzzReadData does —
// followed by CRLF "." CRLF, and checks it against RFC 5321 read directly:
//   - the data ends exactly after the first "." CRLF that starts a line,
//     a line starting only after CRLF (§4.1.1.4, §2.3.8): no other
//     sequence ("\n.\r\n", "\n.\n", "\r.\r\n") may end it, or the bytes
//     after it run as commands (SMTP smuggling);
//   - the message is accepted exactly when it is clean: no bare CR or LF,
//     no NUL (RFC 2045 §2.7, §2.8), ASCII unless 8BITMIME, lines of at
//     most 1000 octets with CRLF (§4.5.3.1.6), at most max octets;
//     accepted, it is the data with one leading dot removed from each line
//     (§4.5.2);
//   - a refusal names a fault the message has.
func FuzzReadDataWire(f *testing.F) {
	for _, seed := range []string{
		"", ".\r\n", "..\r\n", "a\r\n", "a\n.\r\nMAIL FROM:<evil@x.example>\r\n", "a\n.\nb\r\n",
		"a\r.\r\nb\r\n", "a\r\n.\nb\r\n", ".a\r\n..b\r\n", "caf\xc3\xa9\r\n", strings.Repeat("y", 999) + "\r\n",
		"." + strings.Repeat("y", 998) + "\r\n", strings.Repeat("y", 1001), "a\r\n\r\n.\r\n.\r\n", "\n.\r\n",
	} {
		f.Add([]byte(seed), uint16(1000), false)
	}
	// A CRLF split across two reads of the 16 KiB buffer still ends a line.
	f.Add([]byte(strings.Repeat("y", readBufferSize-1)), uint16(1000), false)
	f.Add([]byte("caf\xc3\xa9\r\n"), uint16(10), true)
	f.Add([]byte("0123456789\r\n"), uint16(11), true)
	f.Fuzz(func(t *testing.T, in []byte, maxSeed uint16, allow8Bit bool) {
		wire := append(bytes.Clone(in), "\r\n.\r\n"...)
		end := dataEnd(wire)
		content := wire[:end-len(".\r\n")]
		src := bytes.NewReader(wire)
		r := bufio.NewReaderSize(src, readBufferSize)
		var buf bytes.Buffer
		max := int64(maxSeed)
		fault, err := readData(r, &buf, max, allow8Bit, maxTextLine)
		if err != nil {
			t.Fatalf("readData did not find the end of %q: %v", wire, err)
		}
		if consumed := len(wire) - src.Len() - r.Buffered(); consumed != end {
			t.Fatalf("data %q ended after %d octets; RFC 5321 §4.1.1.4 ends it after %d", wire, consumed, end)
		}
		unstuffed := unstuffLines(content)
		bare := hasBareLineEnd(content)
		eightBit := !allow8Bit && !isASCII(content)
		long := longestCRLFLine(unstuffed) > maxTextLine
		tooBig := int64(len(unstuffed)) > max
		nul := bytes.IndexByte(content, 0) >= 0
		clean := !bare && !eightBit && !long && !tooBig && !nul
		switch fault {
		case refusedNot:
			if !clean {
				t.Fatalf("message %q accepted (bare CR/LF %v, 8-bit %v, long line %v, over %d octets %v, NUL %v)", content, bare, eightBit, long, max, tooBig, nul)
			}
			if !bytes.Equal(buf.Bytes(), unstuffed) {
				t.Fatalf("data %q read as %q, want %q", content, buf.Bytes(), unstuffed)
			}
		case refusedBareLineEnd:
			if !bare {
				t.Fatalf("message %q refused for a bare CR or LF it does not have", content)
			}
		case refused8Bit:
			if !eightBit {
				t.Fatalf("message %q refused for 8-bit octets (8BITMIME %v)", content, allow8Bit)
			}
		case refusedLongLine:
			if !long {
				t.Fatalf("message %q refused for a line over %d octets it does not have", content, maxTextLine)
			}
		case refusedNUL:
			if !nul {
				t.Fatalf("message %q refused for a NUL it does not have", content)
			}
		case refusedTooBig:
			if !tooBig {
				t.Fatalf("message %q of %d octets refused as over %d", content, len(unstuffed), max)
			}
		default:
			t.Fatalf("message %q: unknown fault %d", content, fault)
		}
	})
}

// dataEnd returns the offset just after the end of data in wire: the first
// "." CRLF at the start of the data or after a CRLF.
func dataEnd(wire []byte) int {
	if bytes.HasPrefix(wire, []byte(".\r\n")) {
		return 3
	}
	return bytes.Index(wire, []byte("\r\n.\r\n")) + len("\r\n.\r\n")
}

// unstuffLines removes one leading dot from each CRLF-terminated line.
func unstuffLines(content []byte) []byte {
	var out []byte
	for line := range bytes.SplitAfterSeq(content, []byte("\r\n")) {
		out = append(out, bytes.TrimPrefix(line, []byte("."))...)
	}
	return out
}

// longestCRLFLine returns the length of the longest CRLF-terminated line,
// CRLF included.
func longestCRLFLine(b []byte) int {
	longest := 0
	for line := range bytes.SplitAfterSeq(b, []byte("\r\n")) {
		longest = max(longest, len(line))
	}
	return longest
}
