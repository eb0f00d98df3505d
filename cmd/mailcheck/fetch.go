package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailcheck/mailcheck/agent/compose"
	"github.com/mailcheck/mailcheck/agent/fetch"
)

type fetchFlags struct {
	agentFlags
	message, output, since, subject string
	headers                         []string
	all, del, keep, unseen          bool
	wait                            time.Duration
}

func newFetchCommand() *cobra.Command {
	var f fetchFlags
	cmd := &cobra.Command{
		Use:   "fetch pop3://user@host:port | imap://user@host:port[/MAILBOX] [flags]",
		Short: "List and fetch mail over POP3 or IMAP, or wait for a message to arrive",
		Long: `fetch reads a mailbox over POP3 or IMAP. Without --message, --all or --wait it
lists the messages: number (POP3) or UID (IMAP), size, Date, From, Subject.

--message N fetches one message (a POP3 number or an IMAP UID), --all every
listed message, --wait D the newest message matching --header/--subject,
polling until it arrives (or all matching ones with --all). A message goes
to stdout byte for byte; with --all, as an mboxrd stream (a "From " line
before each, ">From " quoting), so several can be told apart. With
--output DIR each goes to DIR/<id>.eml (IMAP UID, POP3 UIDL or number),
exactly the bytes the server sent, and its path is printed.

Messages are kept (--keep, the default); --delete deletes what was fetched,
once it is written and synced: POP3 DELE and QUIT, IMAP \Deleted and UID
EXPUNGE. IMAP reads with BODY.PEEK[] and EXAMINE (SELECT with --delete), so
fetching changes no flag.

TARGET is pop3://, pop3s:// (implicit TLS), imap:// or imaps://, with the
user (and password) in the URL or given by --user and --password or
--password-file; /MAILBOX after an IMAP address names the mailbox (default
INBOX). --since and --unseen narrow IMAP listings. --header 'Name: value'
and --subject keep messages with exactly that field value (unfolded,
RFC 2047 decoded or not).

--wait polls with one session per poll, at intervals doubling from 100ms to
2s, until a matching message is there; after D it gives up (exit 21).

Exit codes: 0 done; 1 the message asked for is not there, or writing it
failed (nothing deleted); 2 usage error; 10 connect; 11 greeting;
13 STARTTLS/STLS or TLS handshake; 14 login; 18 listing the mailbox;
19 retrieving a message; 20 deleting; 21 --wait: nothing arrived in time.`,
		Example: `  # List the messages of a POP3 maildrop
  mailcheck fetch pop3://bob:secret@mail.example.org:110

  # Fetch IMAP message UID 42 of the Archive mailbox to stdout
  mailcheck fetch imaps://bob@mail.example.org/Archive --password-file pw.txt --message 42

  # Download and delete everything into a directory, one .eml file each
  mailcheck fetch pop3s://bob:secret@mail.example.org --all --output mail/ --delete

  # Unseen IMAP messages since a day
  mailcheck fetch imap://bob:secret@mail.example.org --unseen --since 2026-01-31

  # In CI: send, then wait up to a minute for delivery and show the session
  id=$(mailcheck send smtp://mx.test:25 --from ci@example.org --to bob@example.org \
      --subject smoke | sed -n 's/^Message-ID: //p')
  mailcheck fetch imap://bob:secret@mx.test --wait 60s --header "Message-ID: $id" \
      --delete --show-transcript`,
		Args: oneTarget,
		RunE: func(cmd *cobra.Command, args []string) error { return runFetch(cmd, args[0], f) },
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.message, "message", "", "fetch this message: a POP3 message number or an IMAP UID")
	fl.BoolVar(&f.all, "all", false, "fetch every listed message (those matching --header, --subject, --since, --unseen)")
	fl.DurationVar(&f.wait, "wait", 0, "poll until a message matching --header/--subject arrives, for at most this long; then fetch it")
	fl.StringVarP(&f.output, "output", "o", "", "write each message to DIR/<id>.eml instead of stdout")
	fl.BoolVar(&f.del, "delete", false, "delete the fetched messages from the server once written")
	fl.BoolVar(&f.keep, "keep", false, "keep the fetched messages on the server (the default)")
	fl.StringVar(&f.since, "since", "", "IMAP: messages received on or after this day: 2026-01-31, or a duration ago such as 48h")
	fl.BoolVar(&f.unseen, "unseen", false, "IMAP: messages without \\Seen")
	fl.StringArrayVar(&f.headers, "header", nil, "keep messages with this header field, exactly 'Name: value' (repeatable)")
	fl.StringVar(&f.subject, "subject", "", "keep messages with exactly this subject")
	return cmd
}

func runFetch(cmd *cobra.Command, rawTarget string, f fetchFlags) error {
	target, err := parseAgentTarget(rawTarget, "pop3", "imap")
	if err != nil {
		return err
	}
	so, err := f.sessionOptions(cmd, target)
	if err != nil {
		return err
	}
	if so.User == "" {
		return usageError{errors.New("no user: give user@ in the URL or --user")}
	}
	o := fetch.Options{Options: so, Unseen: f.unseen, ReadWrite: f.del}
	if o.Mailbox, err = mailboxOf(rawTarget); err != nil {
		return usageError{err}
	}
	sel := fetch.Selection{ID: f.message}
	for _, h := range f.headers {
		field, err := compose.ParseField(h)
		if err != nil {
			return usageError{fmt.Errorf("--header: %v", err)}
		}
		sel.Match = append(sel.Match, fetch.Field(field))
	}
	if f.subject != "" {
		sel.Match = append(sel.Match, fetch.Field{Name: "Subject", Value: f.subject})
	}
	fetching := f.message != "" || f.all || f.wait > 0
	switch {
	case f.del && f.keep:
		return usageError{errors.New("--delete or --keep, not both")}
	case f.message != "" && (f.all || f.wait > 0):
		return usageError{errors.New("--message picks one message: --all and --wait do not apply")}
	case f.wait < 0:
		return usageError{fmt.Errorf("--wait %v: want a positive duration", f.wait)}
	case f.wait > 0 && len(sel.Match) == 0:
		return usageError{errors.New("--wait needs --header or --subject: the message to wait for")}
	case !fetching && (f.del || f.output != ""):
		return usageError{errors.New("--delete and --output need something to fetch: --message, --all or --wait")}
	case target.Protocol == "pop3" && (f.since != "" || f.unseen):
		return usageError{errors.New("--since and --unseen are IMAP searches; POP3 has no such thing")}
	case target.Protocol == "pop3" && o.Mailbox != "":
		return usageError{errors.New("POP3 has one maildrop: no /MAILBOX in a pop3:// URL")}
	}
	if f.since != "" {
		if o.Since, err = parseSince(f.since, time.Now()); err != nil {
			return usageError{err}
		}
	}
	if f.output != "" {
		if err := os.MkdirAll(f.output, 0o755); err != nil {
			return usageError{fmt.Errorf("--output: %w", err)}
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var mb fetch.Mailbox
	var msgs []fetch.Message
	if f.wait > 0 {
		mb, msgs, err = fetch.Wait(ctx, o, sel, f.wait, func() {
			fmt.Fprintf(cmd.ErrOrStderr(), "fetch: waiting up to %v for a message matching %s\n", f.wait, sel)
		})
		var timeout *fetch.WaitTimeoutError
		if errors.As(err, &timeout) {
			return exitError{exitWaitTimeout, err}
		}
		if err != nil {
			return stageExit(err)
		}
		if !f.all {
			msgs = msgs[len(msgs)-1:] // the newest
		}
	} else {
		if mb, err = fetch.Open(ctx, o); err != nil {
			return stageExit(err)
		}
		if msgs, err = fetch.Find(mb, sel, !fetching, nil); err != nil {
			mb.Abort()
			return stageExit(err)
		}
	}
	if !fetching {
		if err := writeListing(cmd.OutOrStdout(), target.Protocol, msgs); err != nil {
			mb.Abort()
			return err
		}
		return stageExit(mb.Close())
	}
	if f.message != "" && len(msgs) == 0 {
		mb.Close()
		return exitError{exitFailure, fmt.Errorf("no %s in the mailbox", sel)}
	}
	if err := deliver(cmd.OutOrStdout(), mb, msgs, f.output, f.all); err != nil {
		mb.Abort()
		return err
	}
	if f.del {
		if err := mb.Delete(msgs); err != nil {
			mb.Abort()
			return stageExit(err)
		}
	}
	return stageExit(mb.Close())
}

// deliver retrieves the messages and writes them: to dir as .eml files,
// or to out, as an mboxrd stream when stream is set. A failure to write is
// exit 1 (nothing is deleted then).
func deliver(out io.Writer, mb fetch.Mailbox, msgs []fetch.Message, dir string, stream bool) error {
	now := time.Now()
	for _, m := range msgs {
		data, err := mb.Retrieve(m)
		if err != nil {
			return stageExit(err)
		}
		switch {
		case dir != "":
			path, err := fetch.SaveEML(dir, m, data)
			if err != nil {
				return exitError{exitFailure, err}
			}
			fmt.Fprintln(out, path)
		case stream:
			err = fetch.WriteMbox(out, data, now)
		default:
			_, err = out.Write(data)
		}
		if err != nil {
			return exitError{exitFailure, fmt.Errorf("writing message %s: %w", m.ID, err)}
		}
	}
	return nil
}

// writeListing prints one line per message.
func writeListing(out io.Writer, protocol string, msgs []fetch.Message) error {
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	id := "NUM"
	if protocol == "imap" {
		id = "UID"
	}
	fmt.Fprintf(tw, "%s\tSIZE\tDATE\tFROM\tSUBJECT\n", id)
	for _, m := range msgs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", m.ID, m.Size, oneLine(m.Date()), oneLine(m.From()), oneLine(m.Subject()))
	}
	return tw.Flush()
}

// oneLine keeps a header value on one line of the listing, with control
// characters (a tab would break the columns) shown as spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// mailboxOf returns the /MAILBOX of an IMAP URL ("" for none, which is
// INBOX), percent-decoded.
func mailboxOf(raw string) (string, error) {
	if !strings.Contains(raw, "://") {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(u.Path, "/"), nil
}

// parseSince reads a day (2026-01-31) or a duration ago (48h).
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want a day such as 2026-01-31 or a duration such as 48h", s)
}
