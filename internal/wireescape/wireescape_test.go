package wireescape

import (
	"bytes"
	"testing"
)

func TestLine(t *testing.T) {
	for in, want := range map[string]string{
		"250 OK\r\n":           "250 OK",
		"bare\n":               `bare\n`,
		"cr\rmid\r\n":          `cr\rmid`,
		"caf\xe9\r\n":          `caf\xe9`,
		`back\slash`:           `back\\slash`,
		"* FLAGS (\\Seen)\r\n": `* FLAGS (\\Seen)`,
		"tab\there":            `tab\there`,
		"\x00\x7f":             `\x00\x7f`,
	} {
		if got := Line([]byte(in)); got != want {
			t.Errorf("Line(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRoundTrip: the printable text `\r` and a bare CR, and every other
// pair that an escaper keeping backslashes as they are would confuse,
// come back as they went.
func TestRoundTrip(t *testing.T) {
	for _, in := range []string{`a\rb`, "a\rb", `\\`, `\x41`, "\\\r", `\`, "\\\xff", `\Seen \Deleted`, "x\ty\n"} {
		esc := Line([]byte(in))
		got, err := Unescape(esc)
		if err != nil || !bytes.Equal(got, []byte(in)) {
			t.Errorf("%q escaped as %q reads back as %q, %v", in, esc, got, err)
		}
	}
	if Line([]byte(`\r`)) == Line([]byte("\r")) {
		t.Error("the text \\r and a bare CR are escaped alike")
	}
	for _, bad := range []string{`\`, `\q`, `\x4`, `\xzz`} {
		if _, err := Unescape(bad); err == nil {
			t.Errorf("Unescape(%q) accepted", bad)
		}
	}
}
