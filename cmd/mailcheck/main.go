// Command mailcheck judges mail servers: a strict reference server
// (serve), conformance suites and a load generator. main is thin; the
// packages under reference/, conformance/, load/ and reports/ do the work.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes, documented in README.md and in `mailcheck --help`.
const (
	exitOK        = 0
	exitFailure   = 1 // the command ran and found a failure
	exitCannotRun = 2 // usage error or could not start
)

// usageError marks errors that are the caller's fault (exit 2).
type usageError struct{ error }

func main() {
	root := newRootCommand()
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "mailcheck:", err)
		var exit exitError
		if errors.As(err, &exit) {
			os.Exit(exit.code)
		}
		os.Exit(exitCannotRun)
	}
}

// exitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "mailcheck",
		Short:         "Judge mail servers: reference server, conformance suites, load generator",
		Long:          helpText("mailcheck"),
		Example:       helpText("mailcheck.example"),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see `%s --help`)", err, c.CommandPath())}
	})
	root.AddCommand(newConformCommand(), newLoadCommand(), newReportCommand(), newServeCommand(), newVersionCommand(), newHashPasswordCommand(), newSendCommand(), newFetchCommand())
	return root
}
