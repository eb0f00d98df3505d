// Command outsider is the code of a Go module outside mailcheck: it
// implements the reference SMTP server's Backend, starts the server, submits
// mail to it with smtpsend and prints what the replies say. The test that
// builds and runs it (external_test.go) proves those APIs name only public
// types.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/mailcheck/mailcheck/agent/session"
	"github.com/mailcheck/mailcheck/agent/smtpsend"
	"github.com/mailcheck/mailcheck/reference/loginthrottle"
	"github.com/mailcheck/mailcheck/reference/smtpserver"
	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// backend accepts mail for every mailbox but "nobody" and keeps nothing.
type backend struct{}

func (backend) Authenticate(ctx context.Context, username, password string) (string, error) {
	return "", smtpserver.ErrAuthFailed
}

func (backend) Recipient(ctx context.Context, conn *smtpserver.ConnInfo, rcpt smtpaddr.Mailbox) error {
	if rcpt.Local == "nobody" {
		return smtpreply.NewReply(550, "5.1.1", "outsider has no mailbox %s", rcpt)
	}
	return nil
}

func (backend) Deliver(ctx context.Context, env *smtpserver.Envelope, message [][]byte) error {
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "outsider:", err)
		os.Exit(1)
	}
}

func run() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := smtpserver.New(backend{}, smtpserver.Options{
		Hostname:      "outsider.example",
		IdleTimeout:   10 * time.Second,
		LoginThrottle: loginthrottle.New(loginthrottle.Options{}),
	})
	go srv.Serve(ln)
	defer srv.Close()

	reply, err := send(ln.Addr().String(), "bob@example.org")
	if err != nil {
		return err
	}
	fmt.Printf("accepted: code=%d enhanced=%s text=%q\n", reply.Code, reply.Enhanced, reply.Text())

	_, err = send(ln.Addr().String(), "nobody@example.org")
	var serr *session.Error
	if !errors.As(err, &serr) {
		return fmt.Errorf("a refused recipient gave %v, want a *session.Error", err)
	}
	fmt.Printf("refused: stage=%s error=%q\n", serr.Stage, serr.Err)
	return nil
}

// send submits one short message to rcpt and returns the reply to its end
// of data.
func send(addr, rcpt string) (*smtpreply.Reply, error) {
	var o smtpsend.Options
	o.Target.Protocol = "smtp"
	o.Target.Addr = addr
	o.Target.Raw = "smtp://" + addr
	o.StartTLS = session.StartTLSAuto
	o.Timeout = 10 * time.Second
	o.From = "alice@example.org"
	o.To = []string{rcpt}
	res, err := smtpsend.Send(context.Background(), o, []byte("Subject: hello\r\n\r\nfrom outside\r\n"))
	if err != nil {
		return nil, err
	}
	return res.Reply, nil
}
