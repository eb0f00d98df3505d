package session

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Login is where a command line gives the user and password of a session:
// the target URL's userinfo, --user and --password, a --password-file.
// The words of its errors are those flags'.
type Login struct {
	URLUser, URLPassword string
	User, Password       string
	// PasswordFile holds the password on its first line.
	PasswordFile string
}

// Resolve returns the user (User over URLUser) and the password, which
// must come from one source only: a user without a password, a password
// without a user, and CR, LF or NUL (which no protocol's login command
// can carry) are errors.
func (l Login) Resolve() (user, password string, err error) {
	user = l.URLUser
	if l.User != "" {
		user = l.User
	}
	password, sources, err := l.password()
	switch {
	case err != nil:
		return "", "", err
	case sources > 1:
		return "", "", errors.New("give the password once: in the URL, --password or --password-file")
	case user == "" && sources > 0:
		return "", "", errors.New("a password without a user: give --user or user@ in the URL")
	case user != "" && password == "":
		return "", "", fmt.Errorf("no password for %s: give --password, --password-file or user:password@ in the URL", user)
	case strings.ContainsAny(user+password, "\r\n\x00"):
		return "", "", errors.New("the user or password holds CR, LF or NUL, which no protocol can carry")
	}
	return user, password, nil
}

// password returns the password of the last source given (file, flag,
// URL) and how many sources gave one.
func (l Login) password() (string, int, error) {
	password, sources := l.URLPassword, 0
	if l.URLPassword != "" {
		sources++
	}
	if l.Password != "" {
		sources++
		password = l.Password
	}
	if l.PasswordFile != "" {
		sources++
		data, err := os.ReadFile(l.PasswordFile)
		if err != nil {
			return "", 0, fmt.Errorf("--password-file: %w", err)
		}
		first, _, _ := strings.Cut(string(data), "\n")
		password = strings.TrimSuffix(first, "\r")
	}
	return password, sources, nil
}
