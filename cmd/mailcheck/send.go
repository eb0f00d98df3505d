package main

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailcheck/mailcheck/agent/compose"
	"github.com/mailcheck/mailcheck/agent/session"
	"github.com/mailcheck/mailcheck/agent/smtpsend"
	"github.com/mailcheck/mailcheck/agent/transcript"
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
	user, password, passwordFile string
	starttls, caFile             string
	tlsSkipVerify                bool
	timeout                      time.Duration
	showTranscript, verbose      bool
}

func (f *agentFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.user, "user", "", "user to log in as (or user@ in the target URL)")
	fl.StringVar(&f.password, "password", "", "password (or user:password@ in the target URL)")
	fl.StringVar(&f.passwordFile, "password-file", "", "read the password from the first line of this file")
	fl.StringVar(&f.starttls, "starttls", "auto", "STARTTLS on a plain connection: auto (when offered), always (or fail, exit 13), never")
	fl.BoolVar(&f.tlsSkipVerify, "tls-skip-verify", false, "do not verify the server's TLS certificate")
	fl.StringVar(&f.caFile, "ca", "", "PEM file of CA certificates to verify the server with")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "limit of each wait for the server (connect, TLS handshake, each reply)")
	fl.BoolVar(&f.showTranscript, "show-transcript", false, "print every line sent (C:) and received (S:) on stderr, passwords masked")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "with --show-transcript, every line of message data too (else one summary line)")
}

// sessionOptions builds the session options of target from the flags:
// credentials from the URL or the flags (one source for the password),
// the STARTTLS policy, TLS verification and the transcript on stderr.
func (f *agentFlags) sessionOptions(cmd *cobra.Command, target target.Target) (session.Options, error) {
	o := session.Options{Target: target, User: target.User, Password: target.Password, Timeout: f.timeout}
	if f.user != "" {
		o.User = f.user
	}
	sources := 0
	if target.Password != "" {
		sources++
	}
	if f.password != "" {
		sources++
		o.Password = f.password
	}
	if f.passwordFile != "" {
		sources++
		data, err := os.ReadFile(f.passwordFile)
		if err != nil {
			return o, usageError{fmt.Errorf("--password-file: %w", err)}
		}
		first, _, _ := strings.Cut(string(data), "\n")
		o.Password = strings.TrimSuffix(first, "\r")
	}
	switch {
	case sources > 1:
		return o, usageError{errors.New("give the password once: in the URL, --password or --password-file")}
	case o.User == "" && sources > 0:
		return o, usageError{errors.New("a password without a user: give --user or user@ in the URL")}
	case o.User != "" && o.Password == "":
		return o, usageError{fmt.Errorf("no password for %s: give --password, --password-file or user:password@ in the URL", o.User)}
	case strings.ContainsAny(o.User+o.Password, "\r\n\x00"):
		return o, usageError{errors.New("the user or password holds CR, LF or NUL, which no protocol can carry")}
	case f.timeout <= 0:
		return o, usageError{fmt.Errorf("--timeout %v: want more than 0", f.timeout)}
	}
	var err error
	if o.StartTLS, err = session.ParseStartTLS(f.starttls); err != nil {
		return o, usageError{err}
	}
	if o.TLS, err = clientTLS(f.tlsSkipVerify, f.caFile); err != nil {
		return o, usageError{err}
	}
	if f.showTranscript {
		o.Transcript = transcript.New(cmd.ErrOrStderr(), f.verbose)
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

// parseAgentTarget parses the TARGET argument and checks its protocol.
func parseAgentTarget(raw string, protocols ...string) (target.Target, error) {
	t, err := target.ParseTarget(raw, "")
	if err != nil {
		return t, usageError{err}
	}
	for _, p := range protocols {
		if t.Protocol == p {
			return t, nil
		}
	}
	return t, usageError{fmt.Errorf("%s is a %s target; want %s", t.Redacted(), t.Protocol, strings.Join(protocols, " or "))}
}

type sendFlags struct {
	agentFlags
	from, subject, body, bodyFile, data, ehlo string
	to, attach, headers                       []string
	eightBitMIME, pipelining                  bool
}

func newSendCommand() *cobra.Command {
	var f sendFlags
	cmd := &cobra.Command{
		Use:   "send smtp://host:port --from ADDR --to ADDR [flags]",
		Short: "Compose a message and send it over SMTP, showing every line on the wire",
		Long: `send composes a proper RFC 5322 message (Date, Message-ID, MIME-Version;
multipart/mixed with --attach) and submits it over SMTP: greeting, EHLO,
STARTTLS, AUTH, MAIL, RCPT, DATA (dot-stuffed), QUIT. --data sends a whole
message from a file instead (LF line ends become CRLF); --header fields are
put at its top.

TARGET is smtp://host:port (STARTTLS per --starttls) or smtps://host:port
(implicit TLS); user:password@ in the URL logs in with AUTH (PLAIN, else
LOGIN), as do --user and --password or --password-file.

Nothing is sent unless every recipient is accepted. On success stdout has
the Message-ID and the server's reply; --show-transcript prints the session
on stderr (C: client, S: server, # notes), passwords and AUTH responses
masked, message data summarised unless -v.

Exit codes: 0 accepted; 2 usage error; otherwise the stage that failed:
  10 connect    11 greeting   12 EHLO (or --8bitmime/--pipelining not offered)
  13 STARTTLS or TLS handshake   14 AUTH   15 MAIL   16 RCPT   17 DATA`,
		Example: `  # A plain message through a submission server, logging in after STARTTLS
  mailcheck send smtp://alice:secret@mail.example.org:587 --from alice@example.org \
      --to bob@example.net --subject 'Hello' --body 'Hi Bob'

  # Attachments and extra header fields, the password from a file, the session on stderr
  mailcheck send smtps://mail.example.org:465 --user alice --password-file pw.txt \
      --from alice@example.org --to bob@example.net --to carol@example.net \
      --attach report.pdf --header 'X-Test: 1' --body-file body.txt --show-transcript

  # A whole message from a file, 8-bit, pipelined, to a local test server
  mailcheck send smtp://127.0.0.1:2525 --from a@example.org --to b@example.org \
      --data message.eml --8bitmime --pipelining --starttls never

  # In CI: what failed is in the exit code
  mailcheck send smtp://mx.test:25 --from ci@example.org --to bob@example.org || echo "stage $?"`,
		Args: oneTarget,
		RunE: func(cmd *cobra.Command, args []string) error { return runSend(cmd, args[0], f) },
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "", "author and reverse-path: alice@example.org or 'Alice <alice@example.org>' (required)")
	fl.StringArrayVar(&f.to, "to", nil, "recipient, repeatable (required)")
	fl.StringVar(&f.subject, "subject", "", "subject")
	fl.StringVar(&f.body, "body", "", "text of the message")
	fl.StringVar(&f.bodyFile, "body-file", "", "read the text of the message from this file (UTF-8)")
	fl.StringVar(&f.data, "data", "", "send this file, a whole RFC 5322 message, instead of composing one")
	fl.StringArrayVar(&f.attach, "attach", nil, "attach this file, repeatable")
	fl.StringArrayVar(&f.headers, "header", nil, "extra header field 'Name: value', repeatable (a Date or Message-ID replaces the generated one)")
	fl.BoolVar(&f.eightBitMIME, "8bitmime", false, "declare the message 8-bit (BODY=8BITMIME; the server must offer 8BITMIME); composed text may then be 8bit")
	fl.BoolVar(&f.pipelining, "pipelining", false, "send MAIL and every RCPT in one write (the server must offer PIPELINING)")
	fl.StringVar(&f.ehlo, "ehlo", "", "EHLO name (default: this host's name, or localhost)")
	return cmd
}

func runSend(cmd *cobra.Command, rawTarget string, f sendFlags) error {
	target, err := parseAgentTarget(rawTarget, "smtp")
	if err != nil {
		return err
	}
	so, err := f.sessionOptions(cmd, target)
	if err != nil {
		return err
	}
	o := smtpsend.Options{Options: so, ClientName: f.ehlo, EightBitMIME: f.eightBitMIME, Pipelining: f.pipelining}
	if o.ClientName == "" {
		o.ClientName = defaultClientName()
	}
	msg, id, err := f.message(&o)
	if err != nil {
		return err
	}
	if !f.eightBitMIME && has8Bit(msg) {
		fmt.Fprintln(cmd.ErrOrStderr(), "send: warning: the message has 8-bit octets and --8bitmime is not given; servers may refuse it (RFC 6152)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := smtpsend.Send(ctx, o, msg)
	if err != nil {
		return stageExit(err)
	}
	out := cmd.OutOrStdout()
	if id != "" {
		fmt.Fprintf(out, "Message-ID: %s\n", id)
	}
	fmt.Fprintln(out, res.Reply.String())
	return nil
}

// message checks the addresses, sets the envelope and returns the message
// to send with its Message-ID.
func (f sendFlags) message(o *smtpsend.Options) ([]byte, string, error) {
	bad := func(format string, a ...any) ([]byte, string, error) {
		return nil, "", usageError{fmt.Errorf(format, a...)}
	}
	if f.from == "" || len(f.to) == 0 {
		return bad("--from and --to are required")
	}
	from, err := envelopeAddress(f.from)
	if err != nil {
		return bad("--from: %v", err)
	}
	o.From = from
	for _, t := range f.to {
		addr, err := envelopeAddress(t)
		if err != nil {
			return bad("--to: %v", err)
		}
		o.To = append(o.To, addr)
	}
	var fields []compose.Field
	for _, h := range f.headers {
		field, err := compose.ParseField(h)
		if err != nil {
			return bad("--header: %v", err)
		}
		fields = append(fields, field)
	}
	sources := 0
	for _, s := range []string{f.body, f.bodyFile, f.data} {
		if s != "" {
			sources++
		}
	}
	if sources > 1 {
		return bad("give one of --body, --body-file and --data")
	}
	if f.data != "" {
		if f.subject != "" || len(f.attach) > 0 {
			return bad("--data sends a whole message: --subject and --attach do not apply")
		}
		data, err := os.ReadFile(f.data)
		if err != nil {
			return bad("--data: %v", err)
		}
		msg, id, err := compose.Whole(data, fields)
		if err != nil {
			return bad("--data %s: %v", f.data, err)
		}
		return msg, id, nil
	}
	m := compose.Message{From: f.from, To: f.to, Subject: f.subject, Body: []byte(f.body), Fields: fields, EightBit: f.eightBitMIME}
	if f.bodyFile != "" {
		if m.Body, err = os.ReadFile(f.bodyFile); err != nil {
			return bad("--body-file: %v", err)
		}
	}
	for _, path := range f.attach {
		data, err := os.ReadFile(path)
		if err != nil {
			return bad("--attach: %v", err)
		}
		m.Attachments = append(m.Attachments, compose.Attachment{Name: filepath.Base(path), Data: data})
	}
	msg, id, err := compose.Compose(m)
	if err != nil {
		return bad("%v", err)
	}
	return msg, id, nil
}

// envelopeAddress takes the address of "Name <addr>" or "addr" and checks
// it is an SMTP path.
func envelopeAddress(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", fmt.Errorf("%q: %v", s, err)
	}
	if err := smtpsend.CheckAddress(a.Address); err != nil {
		return "", err
	}
	return a.Address, nil
}

// defaultClientName is this host's name when it is a domain name, else
// "localhost" (RFC 5321 §4.1.1.1 wants the client's domain in EHLO).
func defaultClientName() string {
	h, err := os.Hostname()
	if err != nil || h == "" || strings.Trim(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != "" {
		return "localhost"
	}
	return h
}

func has8Bit(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}
