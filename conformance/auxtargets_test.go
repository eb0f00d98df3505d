package conformance

import (
	"strings"
	"testing"
)

// TestParseReadbackAndSeed: a read-back mailbox is POP3 or IMAP with its
// login; a seed is SMTP; errors hide the password.
func TestParseReadbackAndSeed(t *testing.T) {
	if rb, err := ParseReadback("imap://bob:pw@127.0.0.1:143"); err != nil || rb.Protocol != "imap" || rb.User != "bob" {
		t.Errorf("read-back: %+v %v", rb, err)
	}
	for _, bad := range []string{"smtp://bob:secret@h:25", "pop3://h:110", "nonsense://x"} {
		if _, err := ParseReadback(bad); err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("read-back %q: %v", bad, err)
		}
	}
	if sd, err := ParseSeed("smtp://127.0.0.1:25"); err != nil || sd.Protocol != "smtp" {
		t.Errorf("seed: %+v %v", sd, err)
	}
	if _, err := ParseSeed("pop3://u:secret@h:110"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("a POP3 seed: %v", err)
	}
	if len(CatalogueEntries()) != len(Catalogue()) {
		t.Error("the catalogue entries are not the catalogue's")
	}
}
