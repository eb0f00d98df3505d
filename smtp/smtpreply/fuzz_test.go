package smtpreply

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"
)

// The fuzz targets below check the wire pieces the server and the tools
// share against properties taken from the RFCs, not against the code's own
// idea of them. Seeds are added here and committed under
// testdata/fuzz/<FuzzName>, so `go test ./...` runs them.

// FuzzReadReply feeds arbitrary server output, repeated without end, to
// ReadReply through a small buffer. Whatever the input, ReadReply returns,
// having read at most MaxReplyLines lines of at most the buffer's size
// (memory stays bounded against a hostile server), and gives either an
// error or a reply whose code is in the RFC 5321 §4.2 grammar and whose
// lines are at most the buffer's size.
func FuzzReadReply(f *testing.F) {
	for _, seed := range []struct {
		in   string
		size uint16
	}{
		{"220 mx.example ESMTP\r\n", 4096},
		{"250-mx.example\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 16},
		{"550 5.1.1 No such user\r\n", 64},
		{"250\r\n", 0},
		{"250-a\r\n251 b\r\n", 0},
		{"250-", 100},
		{"250-a\r\n", 64},
		{"999 nine\r\n", 0},
		{"100 one\r\n", 0},
		{"260 six\r\n", 0},
		{"25x oops\r\n", 0},
		{"250xtext\r\n", 0},
		{"250 2.0.0\r\n", 0},
		{"250-x\n", 0},
		{"\r\n", 0},
		{strings.Repeat("x", 300), 20},
	} {
		f.Add([]byte(seed.in), seed.size, true)
	}
	f.Fuzz(func(t *testing.T, in []byte, size uint16, enhanced bool) {
		if len(in) == 0 {
			return
		}
		// bufio keeps at least 16 octets.
		bufSize := max(16, int(size%1024))
		// Bufio reads at most a buffer ahead of what it returns.
		limit := int64(MaxReplyLines+1) * int64(bufSize)
		src := &repeatingReader{data: in, limit: limit}
		r := bufio.NewReaderSize(src, bufSize)
		lines := 0
		reply, err := ReadReply(r, enhanced, func(line []byte) {
			lines++
			if len(line) > r.Size() {
				t.Fatalf("line of %d octets through a %d-octet buffer", len(line), r.Size())
			}
		})
		if src.overrun {
			t.Fatalf("ReadReply read more than %d octets (%d lines of %d) of %q repeated", limit, MaxReplyLines, bufSize, in)
		}
		if lines > MaxReplyLines {
			t.Fatalf("ReadReply read %d lines, more than MaxReplyLines", lines)
		}
		if err != nil {
			if reply != nil {
				t.Fatalf("ReadReply returned a reply and an error: %v", err)
			}
			return
		}
		checkReply(t, reply, in)
		if len(reply.Lines) != lines {
			t.Fatalf("reply of %d lines from %d lines read", len(reply.Lines), lines)
		}
	})
}

// checkReply checks the properties of any reply ReadReply returns: RFC 5321
// §4.2 Reply-code = %x32-35 %x30-35 %x30-39, at least one line, lines that
// fit the buffer, and an enhanced code only of RFC 3463 §2 form.
func checkReply(t *testing.T, reply *Reply, in []byte) {
	t.Helper()
	c := strconv.Itoa(reply.Code)
	if len(c) != 3 || c[0] < '2' || c[0] > '5' || c[1] > '5' {
		t.Fatalf("reply code %d from %q is outside the RFC 5321 §4.2 grammar", reply.Code, in)
	}
	if len(reply.Lines) == 0 || len(reply.Lines) > MaxReplyLines {
		t.Fatalf("reply with %d lines from %q", len(reply.Lines), in)
	}
	if reply.Enhanced != "" {
		if code, rest, ok := SplitEnhanced(reply.Enhanced); !ok || code != reply.Enhanced || rest != "" {
			t.Fatalf("enhanced code %q from %q is not class.subject.detail", reply.Enhanced, in)
		}
	}
	for _, l := range reply.Lines {
		if strings.ContainsAny(l, "\n") {
			t.Fatalf("reply line %q holds an LF", l)
		}
	}
}

// repeatingReader returns data over and over; past limit octets it records
// the overrun and reports EOF, so a reader that does not stop still ends.
type repeatingReader struct {
	data    []byte
	off     int
	read    int64
	limit   int64
	overrun bool
}

func (r *repeatingReader) Read(p []byte) (int, error) {
	if r.read >= r.limit {
		r.overrun = true
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.read < r.limit {
		c := copy(p[n:], r.data[r.off:])
		r.off = (r.off + c) % len(r.data)
		n += c
		r.read += int64(c)
	}
	return n, nil
}

// FuzzReplyRoundTrip writes a reply built from fuzzed parts with
// Reply.AppendTo and reads it back with ReadReply: the code, the enhanced
// code and every line come back as they were.
func FuzzReplyRoundTrip(f *testing.F) {
	f.Add(uint16(0), uint16(0), "mx.example greets you")
	f.Add(uint16(251), uint16(1), "one\ntwo\n\nfour")
	f.Add(uint16(3), uint16(999), "")
	f.Add(uint16(77), uint16(5000), " leading space\n2.1.0 looks enhanced\n250 looks like a code")
	f.Add(uint16(1), uint16(2), "tab\there\nhigh \xff octet")
	f.Fuzz(func(t *testing.T, codeSeed, enhancedSeed uint16, text string) {
		// Any code of the RFC 5321 §4.2 grammar: 2-5, 0-5, 0-9.
		code := (2+int(codeSeed)%4)*100 + int(codeSeed/4%6)*10 + int(codeSeed/24%10)
		// An enhanced code of RFC 3463 §2 (class 2, 4 or 5), or none.
		enhanced := ""
		if enhancedSeed%4 != 0 {
			class := []string{"2", "4", "5"}[enhancedSeed%3]
			enhanced = class + "." + strconv.Itoa(int(enhancedSeed/3%1000)) + "." + strconv.Itoa(int(enhancedSeed/7%1000))
		}
		// RFC 5321 §4.2: text lines carry no CR or LF.
		text = strings.ReplaceAll(text, "\r", "")
		lines := strings.Split(text, "\n")
		if len(lines) > MaxReplyLines {
			lines = lines[:MaxReplyLines]
		}
		want := &Reply{Code: code, Enhanced: enhanced, Lines: lines}
		wire := want.AppendTo(nil)
		// A line is at most code, separator, enhanced code, space, text, CRLF.
		longest := 0
		for _, l := range lines {
			longest = max(longest, len(l))
		}
		r := bufio.NewReaderSize(bytes.NewReader(wire), longest+len(enhanced)+8)
		got, err := ReadReply(r, enhanced != "", nil)
		if err != nil {
			t.Fatalf("ReadReply(%q): %v", wire, err)
		}
		if got.Code != want.Code || got.Enhanced != want.Enhanced || strings.Join(got.Lines, "\n") != strings.Join(want.Lines, "\n") || len(got.Lines) != len(want.Lines) {
			t.Fatalf("wrote %+v as %q, read back %+v", want, wire, got)
		}
		if r.Buffered() != 0 {
			t.Fatalf("ReadReply left %d octets of %q", r.Buffered(), wire)
		}
	})
}
