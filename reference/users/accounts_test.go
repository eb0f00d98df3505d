package users

import (
	"strings"
	"testing"
)

// TestAddAccounts: NAME:PASSWORD pairs; a pair without a password, or an
// invalid name, is refused without showing the password.
func TestAddAccounts(t *testing.T) {
	db := New()
	if err := db.AddAccounts([]string{"alice:a:b", "bob:pw"}); err != nil {
		t.Fatal(err)
	}
	if db.Verify("alice", "a:b") != nil || db.Verify("bob", "pw") != nil {
		t.Error("accounts not added")
	}
	for _, bad := range []string{"nopassword", "carol:", "Bad/Name:secret"} {
		err := New().AddAccounts([]string{bad})
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
