package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailcheck/mailcheck/reference/users"
)

func newHashPasswordCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "hash-password NAME",
		Short:   "Print a users-file line for NAME, reading the password from stdin",
		Long:    helpText("hash-password"),
		Example: helpText("hash-password.example"),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if !users.ValidName(name) {
				return usageError{fmt.Errorf("invalid user name %q: lower-case letters, digits and . - _ +", name)}
			}
			line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
			password := strings.TrimRight(line, "\r\n")
			if password == "" {
				if err == nil {
					err = errors.New("empty password")
				}
				return usageError{fmt.Errorf("reading the password from stdin: %w", err)}
			}
			hash, err := users.Hash(password)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s:%s\n", name, hash)
			return nil
		},
	}
}
