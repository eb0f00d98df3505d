package users

import (
	"errors"
	"strings"
	"testing"
)

func TestAddVerify(t *testing.T) {
	db := New()
	if err := db.Add("alice", "secret"); err != nil {
		t.Fatal(err)
	}
	if err := db.Verify("alice", "secret"); err != nil {
		t.Errorf("right password: %v", err)
	}
	if err := db.Verify("alice", "wrong"); !errors.Is(err, ErrBadPassword) {
		t.Errorf("wrong password: %v", err)
	}
	if err := db.Verify("bob", "secret"); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown user: %v", err)
	}
	for _, bad := range []string{"", "Alice", ".x", "a/b", "a:b", strings.Repeat("a", 65)} {
		if db.Add(bad, "x") == nil {
			t.Errorf("Add(%q) accepted an invalid name", bad)
		}
	}
}

func TestHashFileRoundTrip(t *testing.T) {
	h, err := Hash("pw with spaces:and colons")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h, "pw with") {
		t.Fatal("hash contains the password")
	}
	db := New()
	file := "# accounts\n\nbob:" + h + "\n"
	if err := db.Load(strings.NewReader(file), "test"); err != nil {
		t.Fatal(err)
	}
	if err := db.Verify("bob", "pw with spaces:and colons"); err != nil {
		t.Errorf("verify: %v", err)
	}
	if err := db.Verify("bob", "pw"); !errors.Is(err, ErrBadPassword) {
		t.Errorf("wrong password accepted: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, file := range []string{
		"bob\n",
		"bob:plaintext\n",
		"Bob:pbkdf2-sha256$1$AAAA$AAAA\n",
		"bob:pbkdf2-sha256$x$AAAA$AAAA\n",
		"bob:pbkdf2-sha256$10$!!$AAAA\n",
	} {
		if err := New().Load(strings.NewReader(file), "f"); err == nil {
			t.Errorf("Load(%q) succeeded", file)
		} else if !strings.HasPrefix(err.Error(), "f:1:") {
			t.Errorf("error %q does not name the line", err)
		}
	}
}

// TestUnknownUserCostsAsMuch checks that Verify spends on an unknown user
// the work factor of the dearest account: with the 1000 iterations of a
// quick-test account for unknown users, a failure for a users-file account
// (600,000 iterations) would take 600 times longer than one for a name that
// does not exist, telling an attacker which names do.
func TestUnknownUserCostsAsMuch(t *testing.T) {
	db := New()
	db.Add("quick", "pw")
	if acct, _ := db.lookup("nobody"); acct.iterations != 1000 {
		t.Errorf("unknown user with quick-test accounts only: %d iterations, want 1000", acct.iterations)
	}
	// A users-file account of 5000 iterations (a cheap stand-in for the
	// 600,000 of Hash, to keep the test fast).
	line := "filed:pbkdf2-sha256$5000$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U\n"
	if err := db.Load(strings.NewReader(line), "users.txt"); err != nil {
		t.Fatal(err)
	}
	known, _ := db.lookup("filed")
	unknown, ok := db.lookup("nobody")
	if ok || unknown.iterations != known.iterations || len(unknown.key) != len(known.key) {
		t.Errorf("unknown user costs %d iterations (key %d octets), a known one %d (key %d octets)",
			unknown.iterations, len(unknown.key), known.iterations, len(known.key))
	}
	if err := db.Verify("nobody", "pw"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Verify(unknown) = %v", err)
	}
}
