package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailcheck/mailcheck/agent/compose"
	"github.com/mailcheck/mailcheck/agent/fetch"
	"github.com/mailcheck/mailcheck/target"
)

// fetchFlags are the session's flags, the fetch.Request (the flags set it
// directly) and what selects and narrows it.
type fetchFlags struct {
	agentFlags
	r              fetch.Request
	since, subject string
	headers        []string
	keep, unseen   bool
}

func newFetchCommand() *cobra.Command {
	var f fetchFlags
	cmd := &cobra.Command{
		Use:     "fetch pop3://user@host:port | imap://user@host:port[/MAILBOX] [flags]",
		Short:   "List and fetch mail over POP3 or IMAP, or wait for a message to arrive",
		Long:    helpText("fetch"),
		Example: helpText("fetch.example"),
		Args:    oneTarget,
		RunE:    func(cmd *cobra.Command, args []string) error { return runFetch(cmd, args[0], f) },
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.r.ID, "message", "", "fetch this message: a POP3 message number or an IMAP UID")
	fl.BoolVar(&f.r.All, "all", false, "fetch every listed message (those matching --header, --subject, --since, --unseen)")
	fl.DurationVar(&f.r.Wait, "wait", 0, "poll until a message matching --header/--subject arrives, for at most this long; then fetch it")
	fl.StringVarP(&f.r.Dir, "output", "o", "", "write each message to DIR/<id>.eml instead of stdout")
	fl.BoolVar(&f.r.Delete, "delete", false, "delete the fetched messages from the server once written")
	fl.BoolVar(&f.keep, "keep", false, "keep the fetched messages on the server (the default)")
	fl.StringVar(&f.since, "since", "", "IMAP: messages received on or after this day: 2026-01-31, or a duration ago such as 48h")
	fl.BoolVar(&f.unseen, "unseen", false, "IMAP: messages without \\Seen")
	fl.StringArrayVar(&f.headers, "header", nil, "keep messages with this header field, exactly 'Name: value' (repeatable)")
	fl.StringVar(&f.subject, "subject", "", "keep messages with exactly this subject")
	return cmd
}

func runFetch(cmd *cobra.Command, rawTarget string, f fetchFlags) error {
	target, err := target.ParseFor(rawTarget, "pop3", "imap")
	if err != nil {
		return usageError{err}
	}
	so, err := f.sessionOptions(cmd, target)
	if err != nil {
		return err
	}
	if so.User == "" {
		return usageError{errors.New("no user: give user@ in the URL or --user")}
	}
	o := fetch.Options{Options: so, Unseen: f.unseen, ReadWrite: f.r.Delete}
	if o.Mailbox, err = fetch.MailboxOf(rawTarget); err != nil {
		return usageError{err}
	}
	r, err := f.request(target.Protocol, o.Mailbox)
	if err != nil {
		return err
	}
	if f.since != "" {
		if o.Since, err = fetch.ParseSince(f.since, time.Now()); err != nil {
			return usageError{fmt.Errorf("--since %v", err)}
		}
	}
	if r.Dir != "" {
		if err := os.MkdirAll(r.Dir, 0o755); err != nil {
			return usageError{fmt.Errorf("--output: %w", err)}
		}
	}
	r.Waiting = func() {
		fmt.Fprintf(cmd.ErrOrStderr(), "fetch: waiting up to %v for a message matching %s\n", r.Wait, r.Selection)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = fetch.Run(ctx, o, r, cmd.OutOrStdout())
	var timeout *fetch.WaitTimeoutError
	var notFound *fetch.NotFoundError
	var write *fetch.WriteError
	switch {
	case errors.As(err, &timeout):
		return exitError{exitWaitTimeout, err}
	case errors.As(err, &notFound), errors.As(err, &write):
		return exitError{exitFailure, err}
	}
	return stageExit(err)
}

// request completes the fetch request from the flags, refusing what
// contradicts itself or does not apply to the protocol.
func (f fetchFlags) request(protocol, mailbox string) (fetch.Request, error) {
	r := f.r
	for _, h := range f.headers {
		field, err := compose.ParseField(h)
		if err != nil {
			return r, usageError{fmt.Errorf("--header: %v", err)}
		}
		r.Match = append(r.Match, fetch.Field(field))
	}
	if f.subject != "" {
		r.Match = append(r.Match, fetch.Field{Name: "Subject", Value: f.subject})
	}
	bad := func(msg string) (fetch.Request, error) { return r, usageError{errors.New(msg)} }
	switch {
	case r.Delete && f.keep:
		return bad("--delete or --keep, not both")
	case r.ID != "" && (r.All || r.Wait > 0):
		return bad("--message picks one message: --all and --wait do not apply")
	case r.Wait < 0:
		return r, usageError{fmt.Errorf("--wait %v: want a positive duration", r.Wait)}
	case r.Wait > 0 && len(r.Match) == 0:
		return bad("--wait needs --header or --subject: the message to wait for")
	case !r.Fetching() && (r.Delete || r.Dir != ""):
		return bad("--delete and --output need something to fetch: --message, --all or --wait")
	case protocol == "pop3" && (f.since != "" || f.unseen):
		return bad("--since and --unseen are IMAP searches; POP3 has no such thing")
	case protocol == "pop3" && mailbox != "":
		return bad("POP3 has one maildrop: no /MAILBOX in a pop3:// URL")
	}
	return r, nil
}
