package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mailcheck/mailcheck/agent/smtpsend"
	"github.com/mailcheck/mailcheck/target"
)

type sendFlags struct {
	agentFlags
	draft      smtpsend.Draft
	ehlo       string
	pipelining bool
}

func newSendCommand() *cobra.Command {
	var f sendFlags
	cmd := &cobra.Command{
		Use:     "send smtp://host:port --from ADDR --to ADDR [flags]",
		Short:   "Compose a message and send it over SMTP, showing every line on the wire",
		Long:    helpText("send"),
		Example: helpText("send.example"),
		Args:    oneTarget,
		RunE:    func(cmd *cobra.Command, args []string) error { return runSend(cmd, args[0], f) },
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.draft.From, "from", "", "author and reverse-path: alice@example.org or 'Alice <alice@example.org>' (required)")
	fl.StringArrayVar(&f.draft.To, "to", nil, "recipient, repeatable (required)")
	fl.StringVar(&f.draft.Subject, "subject", "", "subject")
	fl.StringVar(&f.draft.Body, "body", "", "text of the message")
	fl.StringVar(&f.draft.BodyFile, "body-file", "", "read the text of the message from this file (UTF-8)")
	fl.StringVar(&f.draft.Data, "data", "", "send this file, a whole RFC 5322 message, instead of composing one")
	fl.StringArrayVar(&f.draft.Attach, "attach", nil, "attach this file, repeatable")
	fl.StringArrayVar(&f.draft.Headers, "header", nil, "extra header field 'Name: value', repeatable (a Date or Message-ID replaces the generated one)")
	fl.BoolVar(&f.draft.EightBit, "8bitmime", false, "declare the message 8-bit (BODY=8BITMIME; the server must offer 8BITMIME); composed text may then be 8bit")
	fl.BoolVar(&f.pipelining, "pipelining", false, "send MAIL and every RCPT in one write (the server must offer PIPELINING)")
	fl.StringVar(&f.ehlo, "ehlo", "", "EHLO name (default: this host's name, or localhost)")
	return cmd
}

func runSend(cmd *cobra.Command, rawTarget string, f sendFlags) error {
	target, err := target.ParseFor(rawTarget, "smtp")
	if err != nil {
		return usageError{err}
	}
	so, err := f.sessionOptions(cmd, target)
	if err != nil {
		return err
	}
	o := smtpsend.Options{Options: so, ClientName: f.ehlo, EightBitMIME: f.draft.EightBit, Pipelining: f.pipelining}
	if o.ClientName == "" {
		o.ClientName = smtpsend.DefaultClientName()
	}
	msg, id, err := f.draft.Build(&o)
	if err != nil {
		return usageError{err}
	}
	if !f.draft.EightBit && smtpsend.Has8Bit(msg) {
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
