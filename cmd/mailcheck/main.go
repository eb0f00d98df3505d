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
		Use:   "mailcheck",
		Short: "Judge mail servers: reference server, conformance suites, load generator",
		Long: `mailcheck judges mail servers.

  mailcheck conform    check mail servers against the RFCs (exit 1 on failures)
  mailcheck load       drive SMTP load, measure msgs/s and latency percentiles
                       (exit 1 on a breached --threshold)
  mailcheck report     print saved JSON results; merge the results and
                       HdrHistogram logs of several load generators
  mailcheck serve      run the strict reference mail server: SMTP, POP3, IMAP,
                       durable mailboxes, outgoing queue and relay
  mailcheck version    print the version

Exit codes: 0 success, 1 the command found a failure, 2 usage error or could
not run.`,
		Example: `  # Conformance of the embedded reference server; then of your server
  mailcheck conform
  mailcheck conform smtp://127.0.0.1:25 --rcpt bob@example.org

  # Load the embedded reference server for 10 seconds; then your server
  mailcheck load
  mailcheck load smtp://127.0.0.1:25 --sessions 50 --duration 60s --to bob@example.org

  # Merge the results of several load generators
  mailcheck report seg-*.json

  # Run the reference server on loopback with one user
  mailcheck serve --domain example.org --user alice:secret --insecure-auth

  # Print the version
  mailcheck version`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see `%s --help`)", err, c.CommandPath())}
	})
	root.AddCommand(newConformCommand(), newLoadCommand(), newReportCommand(), newServeCommand(), newVersionCommand(), newHashPasswordCommand(), newSendCommand(), newFetchCommand())
	return root
}
