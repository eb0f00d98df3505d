package smtpreply

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

// endlessReply is a server that streams a multi-line reply of lines of one
// length without end, and counts what the client took.
type endlessReply struct {
	line  []byte
	off   int
	taken int64
}

func (e *endlessReply) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], e.line[e.off:])
		n += c
		e.off = (e.off + c) % len(e.line)
	}
	e.taken += int64(n)
	return n, nil
}

// TestReadReplyBoundsAnEndlessReply: a reply that never ends is given up
// as malformed after MaxReplyLines lines or MaxReplyOctets octets,
// whichever comes first, having read no more than that (plus one buffer).
func TestReadReplyBoundsAnEndlessReply(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
		want string
	}{
		{"million short lines", "250-x\r\n", "more than 1000 lines"},
		{"long lines", "250-" + strings.Repeat("y", 1000) + "\r\n", "more than 65536 octets"},
		{"lines as long as the buffer allows", "250-" + strings.Repeat("z", 60<<10) + "\r\n", "more than 65536 octets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &endlessReply{line: []byte(tc.line)}
			br := bufio.NewReaderSize(src, 64<<10)
			_, err := ReadReply(br, true, nil)
			if !errors.Is(err, ErrMalformedReply) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrMalformedReply with %q", err, tc.want)
			}
			if limit := int64(MaxReplyOctets + br.Size() + len(tc.line)); src.taken > limit {
				t.Errorf("read %d octets of an endless reply, more than %d", src.taken, limit)
			}
		})
	}
}

// TestReadReplyTakesAReplyUpToTheBound: the bounds leave room for real
// replies: 100 lines of 512 octets (the RFC 5321 §4.5.3.1.5 maximum) are
// read.
func TestReadReplyTakesAReplyUpToTheBound(t *testing.T) {
	var b strings.Builder
	text := strings.Repeat("k", 512-len("250-\r\n"))
	for i := range 100 {
		sep := "-"
		if i == 99 {
			sep = " "
		}
		b.WriteString("250" + sep + text + "\r\n")
	}
	r, err := ReadReply(bufio.NewReader(strings.NewReader(b.String())), true, nil)
	if err != nil || len(r.Lines) != 100 {
		t.Fatalf("a 100-line reply of 512-octet lines: %v", err)
	}
}
