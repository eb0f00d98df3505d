package smtpaddr

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in, mailbox, rest string
		null              bool
		err               error
	}{
		{"<a@example.com>", "a@example.com", "", false, nil},
		{"<a@example.com> SIZE=10", "a@example.com", " SIZE=10", false, nil},
		{"<>", "", "", true, nil},
		{"<@hop1,@hop2:a@example.com>", "a@example.com", "", false, nil},
		{`<"a b>c"@example.com>`, `"a b>c"@example.com`, "", false, nil},
		{"<a@[127.0.0.1]>", "a@[127.0.0.1]", "", false, nil},
		{"<a@[IPv6:::1]>", "a@[IPv6:::1]", "", false, nil},
		{"a@example.com", "", "", false, ErrPathSyntax},
		{"<a@example.com", "", "", false, ErrPathSyntax},
		{"<a..b@example.com>", "", "", false, ErrPathSyntax},
		{"<a@-example.com>", "", "", false, ErrPathSyntax},
		{"<a@exa_mple.com>", "", "", false, ErrPathSyntax},
		{"<a@[999.0.0.1]>", "", "", false, ErrPathSyntax},
		{"<j\xc3\xb6rg@example.com>", "", "", false, ErrNonASCII},
		{"<" + strings.Repeat("a", 65) + "@example.com>", "", "", false, ErrPathLength},
	}
	for _, tc := range tests {
		mb, null, rest, err := ParsePath(tc.in)
		if !errors.Is(err, tc.err) || (err == nil && (mb.String() != tc.mailbox || rest != tc.rest || null != tc.null)) {
			t.Errorf("ParsePath(%q) = %q, %v, %q, %v", tc.in, mb, null, rest, err)
		}
	}
}
