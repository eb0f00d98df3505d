package load

import (
	"bytes"
	"strings"
	"testing"
)

// wire joins a composed body as it goes on the wire.
func wire(b body) []byte {
	bufs, tail := b.appendTo(nil, nil)
	return append(bytes.Join(bufs, nil), tail...)
}

// TestComposedMessages: every size, small or many times the filler, gives
// a message of exactly that size (when above the header's), made of
// CRLF-terminated lines none of which starts with a dot, ending with the
// end of data; the header identifies the message.
func TestComposedMessages(t *testing.T) {
	c := newComposer("run1", 2, SizeSpec{}, 1)
	sizes := []int{1, 100, 299, 300, 301, 302, 1024, 10240, len(filler) - 1, len(filler), len(filler) + 1, 3*len(filler) + 77, 200 << 10}
	for n := 250; n < 600; n++ {
		sizes = append(sizes, n) // every way a cut can fall in a line
	}
	for _, size := range sizes {
		c.size = SizeSpec{size, size}
		b := c.compose(nil, 42, "from@example.test", []byte("to@example.test"))
		w := wire(b)
		if !bytes.HasSuffix(w, []byte("\r\n.\r\n")) {
			t.Fatalf("size %d: no end of data: %q", size, w[max(0, len(w)-20):])
		}
		msg := w[:len(w)-3]
		if len(msg) != b.size || (size >= len(b.header)+3 && b.size != size) || (size < len(b.header)+3 && b.size != len(b.header)) {
			t.Errorf("size %d: %d octets, says %d (header %d)", size, len(msg), b.size, len(b.header))
		}
		lines := strings.SplitAfter(string(msg), "\r\n")
		if lines[len(lines)-1] != "" {
			t.Fatalf("size %d: the message does not end with CRLF", size)
		}
		for i, l := range lines[:len(lines)-1] {
			body := strings.TrimSuffix(l, "\r\n")
			if strings.ContainsAny(body, "\r\n") || strings.HasPrefix(l, ".") {
				t.Fatalf("size %d: line %d is %q", size, i, l)
			}
		}
		for _, want := range []string{"Message-ID: <42.2.run1@mailcheck.invalid>\r\n", "X-Mailcheck-Seq: 2/42\r\n", "To: <to@example.test>\r\n", "From: <from@example.test>\r\n"} {
			if !bytes.Contains(b.header, []byte(want)) {
				t.Fatalf("size %d: no %q in the header %q", size, want, b.header)
			}
		}
	}
}

func TestComposedSizeRange(t *testing.T) {
	c := newComposer("r", 1, SizeSpec{1000, 1010}, 7)
	seen := map[int]bool{}
	for i := range 2000 {
		b := c.compose(nil, int64(i), "f@x.test", []byte("t@x.test"))
		if b.size < 1000 || b.size > 1010 || len(wire(b)) != b.size+3 {
			t.Fatalf("size %d (wire %d) outside 1000-1010", b.size, len(wire(b)))
		}
		seen[b.size] = true
	}
	if len(seen) != 11 {
		t.Errorf("%d distinct sizes of 11", len(seen))
	}
}

func TestRecipients(t *testing.T) {
	r, err := parseRecipients("user{3-5}@example.test")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for n := range int64(7) {
		got = append(got, r.nth(n))
	}
	if strings.Join(got, " ") != "user3@example.test user4@example.test user5@example.test user3@example.test user4@example.test user5@example.test user3@example.test" {
		t.Errorf("recipients %q", got)
	}
	if r, _ := parseRecipients("bob@example.test"); r.nth(5) != "bob@example.test" || string(r.appendNth([]byte("<"), 9)) != "<bob@example.test" {
		t.Errorf("a plain recipient gives %q", r.nth(5))
	}
	if _, err := parseRecipients("u{5-3}@x.test"); err == nil {
		t.Error("an empty range is accepted")
	}
}
