package target

import (
	"os"
	"strings"
	"testing"
)

// TestParseFor refuses a target of another protocol, its password hidden.
func TestParseFor(t *testing.T) {
	if got, err := ParseFor("pop3://u:secret@h:110", "pop3", "imap"); err != nil || got.Protocol != "pop3" {
		t.Errorf("pop3: %+v %v", got, err)
	}
	_, err := ParseFor("smtp://u:secret@h:25", "pop3", "imap")
	if err == nil || !strings.Contains(err.Error(), "a smtp target; want pop3 or imap") || strings.Contains(err.Error(), "secret") {
		t.Errorf("smtp for pop3 or imap: %v", err)
	}
}

// TestClientTLS: nothing asked, nil (the system's defaults); no
// verification; a CA file of PEM certificates, and one without any.
func TestClientTLS(t *testing.T) {
	if cfg, err := ClientTLS(false, ""); cfg != nil || err != nil {
		t.Errorf("nothing asked: %v %v", cfg, err)
	}
	if cfg, err := ClientTLS(true, ""); err != nil || !cfg.InsecureSkipVerify {
		t.Errorf("skip verify: %+v %v", cfg, err)
	}
	junk := t.TempDir() + "/junk.pem"
	os.WriteFile(junk, []byte("not PEM\n"), 0o644)
	if _, err := ClientTLS(false, junk); err == nil || !strings.Contains(err.Error(), "no PEM certificates") {
		t.Errorf("a CA file without certificates: %v", err)
	}
	if _, err := ClientTLS(false, junk+".none"); err == nil {
		t.Error("a missing CA file accepted")
	}
}
