package certs

import (
	"errors"
	"testing"
)

// TestForServer: no files, a self-signed certificate; half a pair, an
// error; a pair that does not load, its error.
func TestForServer(t *testing.T) {
	cfg, err := ForServer("", "", "mx.example.org")
	if err != nil || len(cfg.Certificates) != 1 {
		t.Errorf("self-signed: %v", err)
	}
	if _, err := ForServer("cert.pem", "", ""); !errors.Is(err, ErrHalfPair) {
		t.Errorf("a certificate without its key: %v", err)
	}
	if _, err := ForServer("none.pem", "none.key", ""); err == nil || errors.Is(err, ErrHalfPair) {
		t.Errorf("files that are not there: %v", err)
	}
}
