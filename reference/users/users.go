// Package users is the reference server's account list: user names and
// passwords, hashed at rest with PBKDF2-SHA256 (RFC 8018 §5.2).
//
// A users file has one account per line, "name:hash", where hash is what
// Hash returns; blank lines and lines starting with '#' are ignored.
package users

import (
	"bufio"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Iterations is the PBKDF2 work factor for new hashes (OWASP's 2023
// recommendation for PBKDF2-HMAC-SHA256 is 600,000).
const Iterations = 600_000

const scheme = "pbkdf2-sha256"

// DB is a set of accounts. It is safe for concurrent use.
type DB struct {
	mu       sync.RWMutex
	accounts map[string]account
	// decoyIterations is the largest work factor of any account: Verify
	// spends it on an unknown user, so that a failure for an unknown user
	// takes as long as one for a known user (no user enumeration by
	// timing).
	decoyIterations int
}

type account struct {
	iterations int
	salt, key  []byte
}

// ErrUnknown is returned by Verify for a user that does not exist; callers
// must not tell it apart from a wrong password in what they send a client.
var ErrUnknown = errors.New("users: no such user")

// ErrBadPassword is returned by Verify for a wrong password.
var ErrBadPassword = errors.New("users: wrong password")

// New returns an empty DB.
func New() *DB { return &DB{accounts: make(map[string]account)} }

// ValidName reports whether name can be a user: lower-case letters, digits
// and ".-_+", not starting with '.'; the same rule mailbox directories use.
func ValidName(name string) bool {
	if name == "" || len(name) > 64 || name[0] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte(".-_+", c) >= 0) {
			return false
		}
	}
	return true
}

// Add sets name's password. Quick-test accounts from the command line use
// a low work factor since they are never stored.
func (db *DB) Add(name, password string) error {
	if !ValidName(name) {
		return fmt.Errorf("users: invalid user name %q (lower-case letters, digits, . - _ +)", name)
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, password, salt, 1000, 32)
	if err != nil {
		return err
	}
	db.set(name, account{iterations: 1000, salt: salt, key: key})
	return nil
}

func (db *DB) set(name string, acct account) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.accounts[name] = acct
	db.decoyIterations = max(db.decoyIterations, acct.iterations)
}

// lookup returns name's account, or, for an unknown name, a decoy that
// costs Verify as much work as the dearest real account.
func (db *DB) lookup(name string) (account, bool) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if acct, ok := db.accounts[name]; ok {
		return acct, true
	}
	return account{iterations: max(db.decoyIterations, 1000), salt: make([]byte, 16), key: make([]byte, 32)}, false
}

// Has reports whether name is a user.
func (db *DB) Has(name string) bool {
	db.mu.RLock()
	defer db.mu.RUnlock()
	_, ok := db.accounts[name]
	return ok
}

// Len returns the number of accounts.
func (db *DB) Len() int {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return len(db.accounts)
}

// Verify checks name's password. It does as much work for an unknown user
// as for the known one with the highest work factor, so timing does not
// reveal which users exist.
func (db *DB) Verify(name, password string) error {
	acct, ok := db.lookup(name)
	key, err := pbkdf2.Key(sha256.New, password, acct.salt, acct.iterations, len(acct.key))
	if err != nil {
		return err
	}
	match := subtle.ConstantTimeCompare(key, acct.key) == 1
	switch {
	case !ok:
		return ErrUnknown
	case !match:
		return ErrBadPassword
	}
	return nil
}

// Hash returns the at-rest form of password: pbkdf2-sha256$iterations$salt$key.
func Hash(password string) (string, error) {
	salt := make([]byte, 16)
	rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, password, salt, Iterations, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("%s$%d$%s$%s", scheme, Iterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

func parseHash(h string) (account, error) {
	parts := strings.Split(h, "$")
	if len(parts) != 4 || parts[0] != scheme {
		return account{}, fmt.Errorf("not a %s hash (make one with `mailcheck hash-password`)", scheme)
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 {
		return account{}, fmt.Errorf("bad iteration count %q", parts[1])
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	key, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(key) == 0 {
		return account{}, errors.New("bad base64 in salt or key")
	}
	return account{iterations: iter, salt: salt, key: key}, nil
}

// Load reads a users file into db.
func (db *DB) Load(r io.Reader, source string) error {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hash, ok := strings.Cut(line, ":")
		if !ok || !ValidName(name) {
			return fmt.Errorf("%s:%d: want name:hash with a valid user name", source, n)
		}
		acct, err := parseHash(hash)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", source, n, err)
		}
		db.set(name, acct)
	}
	return sc.Err()
}

// LoadFile reads a users file.
func (db *DB) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return db.Load(f, path)
}
