package users

import (
	"fmt"
	"strings"
)

// AddAccounts adds accounts given as NAME:PASSWORD, as a command line
// gives quick-test accounts. Errors name the account, never its password.
func (db *DB) AddAccounts(pairs []string) error {
	for _, pair := range pairs {
		name, pw, ok := strings.Cut(pair, ":")
		if !ok || pw == "" {
			return fmt.Errorf("%q: want NAME:PASSWORD", pair)
		}
		if err := db.Add(name, pw); err != nil {
			return fmt.Errorf("%q: %w", name, err)
		}
	}
	return nil
}
