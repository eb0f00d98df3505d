package reference

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailcheck/mailcheck/reference/certs"
	"github.com/mailcheck/mailcheck/reference/users"
)

// TestTLSEverywhere: with a certificate and without --insecure-auth,
// passwords are refused in clear text on every protocol and accepted after
// STARTTLS/STLS or on the implicit-TLS ports.
func TestTLSEverywhere(t *testing.T) {
	tlsConfig, err := certs.SelfSigned("mx.example.org")
	if err != nil {
		t.Fatal(err)
	}
	db := users.New()
	db.Add("bob", "pw")
	cfg := Config{
		DataDir: t.TempDir(), Hostname: "mx.example.org", Domains: []string{"example.org"}, Users: db,
		SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0", IMAPSAddr: "127.0.0.1:0",
		POP3Addr: "127.0.0.1:0", POP3SAddr: "127.0.0.1:0", TLS: tlsConfig,
	}
	cfg.SMTP.AuthFailureDelay = -1
	cfg.POP3.AuthFailureDelay = -1
	srv, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	clientTLS := &tls.Config{InsecureSkipVerify: true}

	t.Run("IMAP LOGINDISABLED before STARTTLS", func(t *testing.T) {
		c, err := imapclient.DialInsecure(srv.Addr("imap"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		caps, err := c.Capability().Wait()
		if err != nil || !caps.Has(imap.CapLoginDisabled) || !caps.Has(imap.CapStartTLS) {
			t.Errorf("capabilities before TLS: %v %v", caps, err)
		}
		if err := c.Login("bob", "pw").Wait(); err == nil {
			t.Error("LOGIN accepted in clear text")
		}
	})
	t.Run("IMAP STARTTLS", func(t *testing.T) {
		c, err := imapclient.DialStartTLS(srv.Addr("imap"), &imapclient.Options{TLSConfig: clientTLS})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login("bob", "pw").Wait(); err != nil {
			t.Errorf("LOGIN after STARTTLS: %v", err)
		}
	})
	t.Run("IMAPS", func(t *testing.T) {
		c, err := imapclient.DialTLS(srv.Addr("imaps"), &imapclient.Options{TLSConfig: clientTLS})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login("bob", "pw").Wait(); err != nil {
			t.Errorf("LOGIN on imaps: %v", err)
		}
	})
	t.Run("POP3S", func(t *testing.T) {
		conn, err := tls.Dial("tcp", srv.Addr("pop3s"), clientTLS)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		buf := make([]byte, 512)
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		n, _ := conn.Read(buf)
		if !strings.HasPrefix(string(buf[:n]), "+OK") {
			t.Errorf("pop3s greeting %q", buf[:n])
		}
		conn.Write([]byte("USER bob\r\nPASS pw\r\nSTAT\r\n"))
		var got string
		for !strings.Contains(got, "+OK 0 0") {
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("pop3s: %v after %q", err, got)
			}
			got += string(buf[:n])
		}
	})
	t.Run("POP3 refuses USER before STLS", func(t *testing.T) {
		p := dialPOP3Raw(t, srv.Addr("pop3"))
		if l := p.send("USER bob"); !strings.HasPrefix(l, "-ERR") {
			t.Errorf("USER in clear text: %q", l)
		}
	})
}
