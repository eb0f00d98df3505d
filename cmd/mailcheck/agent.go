package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailcheck/mailcheck/agent/session"
	"github.com/mailcheck/mailcheck/target"
)

// Exit codes of send and fetch: the stage that failed, so that a CI
// script can tell what broke (README.md, `mailcheck send --help`). 0, 1
// and 2 keep their meaning for every command.
const (
	exitConnect     = 10 // TCP connection
	exitGreeting    = 11 // the server's greeting
	exitEHLO        = 12 // EHLO/HELO, or an extension asked for and not offered
	exitTLS         = 13 // STARTTLS/STLS or the TLS handshake
	exitAuth        = 14 // SMTP AUTH, POP3 USER/PASS, IMAP LOGIN
	exitMail        = 15 // MAIL FROM
	exitRcpt        = 16 // RCPT TO (any recipient refused: nothing is sent)
	exitData        = 17 // DATA, the message, the reply to it
	exitMailbox     = 18 // listing the mailbox: SELECT, SEARCH, LIST, UIDL, TOP
	exitRetrieve    = 19 // RETR, FETCH BODY.PEEK[]
	exitDelete      = 20 // DELE and QUIT, STORE \Deleted and EXPUNGE
	exitWaitTimeout = 21 // fetch --wait: nothing matching arrived in time
)

var stageExitCodes = map[session.Stage]int{
	session.Connect: exitConnect, session.Greeting: exitGreeting, session.EHLO: exitEHLO,
	session.TLS: exitTLS, session.Auth: exitAuth, session.Mail: exitMail, session.Rcpt: exitRcpt,
	session.Data: exitData, session.Mailbox: exitMailbox, session.Retrieve: exitRetrieve,
	session.Delete: exitDelete,
}

// stageExit turns a session failure into its exit code; other errors stay
// as they are (usage errors exit 2).
func stageExit(err error) error {
	if code, ok := stageExitCodes[session.StageOf(err)]; ok {
		return exitError{code, err}
	}
	return err
}

// agentFlags are the flags send and fetch share: how to reach and log in
// to the server, and the transcript.
type agentFlags struct {
	session.Settings
	showTranscript bool
}

func (f *agentFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.User, "user", "", "user to log in as (or user@ in the target URL)")
	fl.StringVar(&f.Password, "password", "", "password (or user:password@ in the target URL)")
	fl.StringVar(&f.PasswordFile, "password-file", "", "read the password from the first line of this file")
	fl.StringVar(&f.StartTLS, "starttls", "auto", "STARTTLS on a plain connection: auto (when offered), always (or fail, exit 13), never")
	fl.BoolVar(&f.SkipVerify, "tls-skip-verify", false, "do not verify the server's TLS certificate")
	fl.StringVar(&f.CAFile, "ca", "", "PEM file of CA certificates to verify the server with")
	fl.DurationVar(&f.Timeout, "timeout", 30*time.Second, "limit of each wait for the server (connect, TLS handshake, each reply)")
	fl.BoolVar(&f.showTranscript, "show-transcript", false, "print every line sent (C:) and received (S:) on stderr, passwords masked")
	fl.BoolVarP(&f.Verbose, "verbose", "v", false, "with --show-transcript, every line of message data too (else one summary line)")
}

// sessionOptions builds the session options of target from the flags,
// the transcript going to stderr.
func (f *agentFlags) sessionOptions(cmd *cobra.Command, target target.Target) (session.Options, error) {
	s := f.Settings
	if f.showTranscript {
		s.Transcript = cmd.ErrOrStderr()
	}
	o, err := s.Options(target)
	if err != nil {
		return o, usageError{err}
	}
	return o, nil
}

// oneTarget wants exactly one argument, the target; anything else is a
// usage error (exit 2).
func oneTarget(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError{fmt.Errorf("want one TARGET, got %d arguments (see `%s --help`)", len(args), cmd.CommandPath())}
	}
	return nil
}
