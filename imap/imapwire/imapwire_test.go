package imapwire

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mailcheck/mailcheck/bounds"
)

// lines is a LineReader over a fixed stream.
type lines struct{ r *bufio.Reader }

func (l lines) ReadLine() ([]byte, error) {
	b, err := l.r.ReadBytes('\n')
	if err == io.EOF && len(b) > 0 {
		err = nil
	}
	return b, err
}

func reader(stream string, p bounds.Policy) *Reader {
	return NewReader(lines{bufio.NewReader(strings.NewReader(stream))}, p)
}

func TestLiteralAt(t *testing.T) {
	for line, want := range map[string]int64{
		"* 1 FETCH (BODY[] {12}\r\n": 12, "* 1 FETCH (BINARY[] ~{3}\r\n": 3, "A1 LOGIN {5+}\r\n": 5, "x {0}\n": 0,
		"* OK {12} later\r\n": -1, "* OK {}\r\n": -1, "* OK 12}\r\n": -1, "* OK {12}": -1,
	} {
		lit, ok := LiteralAt([]byte(line))
		if want < 0 && ok || want >= 0 && (!ok || lit.Size != want || !lit.Fits) {
			t.Errorf("LiteralAt(%q) = %+v, %v; want %d", line, lit, ok, want)
		}
	}
	if lit, ok := LiteralAt([]byte("* 1 FETCH (BODY[] {99999999999999999999}\r\n")); !ok || lit.Fits || lit.Check(bounds.Policy{}) == nil {
		t.Errorf("a size past number64: %+v %v", lit, ok)
	}
}

func TestReadsLiterals(t *testing.T) {
	r := reader("* 1 FETCH (UID 7 BODY[] {12}\r\nab\r\ncd\r\n\r\nef BODY[HEADER] ~{2}\r\nxy)\r\nm1 OK done\r\n", bounds.Policy{})
	resp, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if resp.Tag != "*" || resp.Kind() != "FETCH" || resp.Num() != 1 || len(resp.Lits) != 2 ||
		string(resp.Lits[0]) != "ab\r\ncd\r\n\r\nef" || string(resp.Lits[1]) != "xy" || resp.Text != "1 FETCH (UID 7 BODY[] {12} BODY[HEADER] ~{2})" {
		t.Errorf("got %q %q %q", resp.Tag, resp.Text, resp.Lits)
	}
	done, err := r.Read()
	if err != nil || done.Tag != "m1" || done.Kind() != "OK" {
		t.Errorf("tagged: %v %v", done, err)
	}
}

// TestHugeLiteralRefused: a literal over the policy is refused from its
// announcement, and the reader stays unusable.
func TestHugeLiteralRefused(t *testing.T) {
	r := reader("* 1 FETCH (BODY[] {2000000000}\r\nshort\r\n", bounds.Policy{Literal: 1 << 20})
	_, err := r.Read()
	var e *bounds.ExceededError
	if !errors.As(err, &e) || e.Announced != 2_000_000_000 || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("got %v, want the literal refused", err)
	}
	if _, again := r.Read(); again != err || r.Err() != err {
		t.Errorf("after the refusal: %v", again)
	}
}

func TestTotalBoundsTheConnection(t *testing.T) {
	r := reader(strings.Repeat("* OK filler line\r\n", 100), bounds.Policy{Total: 500})
	var err error
	for n := 0; err == nil && n < 100; n++ {
		_, err = r.Read()
	}
	if !errors.Is(err, bounds.ErrExceeded) {
		t.Errorf("100 lines over a 500-octet budget: %v", err)
	}
}

func TestGuard(t *testing.T) {
	p := bounds.Policy{Literal: 10, Line: 40, Total: 200}
	g := NewGuard(p)
	// A literal within the bound passes, its content (with a "{99}" that
	// is data) is not taken for an announcement.
	for _, chunk := range []string{"* 1 FETCH (BODY[] {1", "0}\r\n", "x {99}\r\nab", ")\r\n"} {
		if err := g.Check([]byte(chunk)); err != nil {
			t.Fatalf("%q: %v", chunk, err)
		}
	}
	if err := g.Check([]byte("* 2 FETCH (BODY[] {11}\r\n")); !errors.Is(err, bounds.ErrExceeded) {
		t.Errorf("an 11-octet literal over 10: %v", err)
	}
	if err := g.Check([]byte("m1 OK\r\n")); err == nil {
		t.Error("the guard forgot its refusal")
	}
	if err := NewGuard(p).Check([]byte(strings.Repeat("x", 41))); !errors.Is(err, bounds.ErrExceeded) {
		t.Errorf("a 41-octet line: %v", err)
	}
	g = NewGuard(p)
	var err error
	for n := 0; err == nil && n < 50; n++ {
		err = g.Check([]byte("* OK\r\n"))
	}
	if !errors.Is(err, bounds.ErrExceeded) {
		t.Errorf("300 octets over a 200 total: %v", err)
	}
}

func TestLiteralOf(t *testing.T) {
	r := &Response{Tag: "*", Text: `1 FETCH (BODY[HEADER] {2} BINARY[] ~{1} body[] {3})`, Lits: [][]byte{[]byte("hh"), []byte("b"), []byte("msg")}}
	for item, want := range map[string]string{"BODY[]": "msg", "BODY[HEADER]": "hh", "BINARY[]": "b", "RFC822": ""} {
		got, ok := r.LiteralOf(item)
		if string(got) != want || ok != (want != "") {
			t.Errorf("LiteralOf(%s) = %q, %v", item, got, ok)
		}
	}
}
