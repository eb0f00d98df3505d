package faultsmtp

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"time"
)

// handshakeTimeout bounds each side's TLS handshake.
const handshakeTimeout = 10 * time.Second

// tlsPair is how the proxy speaks TLS after STARTTLS: as the server to the
// client (with the server's own certificate, which the client trusts) and
// as a client to the server (trusting that certificate alone). Between
// the two it sees the conversation in clear, so a fault can alter it
// inside TLS as well.
type tlsPair struct {
	toClient, toServer *tls.Config
}

// newTLSPair derives the pair from the server's configuration; nil when
// the server has no TLS (then it offers no STARTTLS either).
func newTLSPair(serverTLS *tls.Config) *tlsPair {
	if serverTLS == nil || len(serverTLS.Certificates) == 0 {
		return nil
	}
	leaf, err := x509.ParseCertificate(serverTLS.Certificates[0].Certificate[0])
	if err != nil || len(leaf.DNSNames) == 0 {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tlsPair{
		toClient: serverTLS,
		toServer: &tls.Config{RootCAs: pool, ServerName: leaf.DNSNames[0]},
	}
}

// upgrade runs both handshakes once the client has its 220: the server's
// first (the client's ClientHello waits in the socket meanwhile), then the
// client's.
func (p *tlsPair) upgrade(client, server net.Conn) (toClient, toServer net.Conn, err error) {
	s := tlsClient(server, p)
	if err := s.Handshake(); err != nil {
		return nil, nil, err
	}
	c := tls.Server(client, p.toClient)
	if err := handshake(c); err != nil {
		return nil, nil, err
	}
	return c, s, nil
}

// tlsClient is the proxy's TLS side towards the server, its handshake
// bounded.
func tlsClient(server net.Conn, p *tlsPair) *tlsConn {
	return &tlsConn{tls.Client(server, p.toServer)}
}

// tlsConn is a TLS connection whose handshake has a deadline.
type tlsConn struct{ *tls.Conn }

// Handshake runs the handshake within handshakeTimeout.
func (c *tlsConn) Handshake() error { return handshake(c.Conn) }

func handshake(c *tls.Conn) error {
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	defer c.SetDeadline(time.Time{})
	return c.Handshake()
}

// relayStartTLS passes the 220 on and runs TLS on both sides. What the
// client pipelined behind STARTTLS came in plaintext: the correct server
// never sees it (RFC 3207 §4.2, §6); a fault may run it as commands.
func (c *conn) relayStartTLS(cmd *command, r *reply) error {
	injected, _ := c.cr.Peek(c.cr.Buffered())
	injected = bytes.Clone(injected)
	c.send(cmd, r)
	client, server, err := c.tls.upgrade(c.client, c.server)
	if err != nil {
		return err
	}
	c.client, c.cr = client, bufio.NewReaderSize(client, 64<<10)
	c.server, c.sr = server, bufio.NewReader(server)
	c.endTransaction()
	c.state, c.esmtp, c.authed, c.secure = greeted, false, false, true
	if !c.f.injectAfterTLS {
		return nil
	}
	for _, line := range bytes.SplitAfter(injected, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if quit, err := c.handle(parseCommand(string(line))); quit || err != nil {
			return errors.Join(err, errQuit)
		}
	}
	return nil
}

// errQuit ends a connection whose injected commands ended the session.
var errQuit = errors.New("session ended")
