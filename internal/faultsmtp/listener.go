package faultsmtp

import (
	"crypto/tls"
	"fmt"
	"net"

	"github.com/mailcheck/mailcheck/internal/loopback"
)

// listener is the reference server's SMTP listener with the fault's proxy
// in front: clients connect to its Addr, the proxy relays each
// connection to the server, which accepts it from Accept. Set as
// reference.Config.SMTPListener, it makes the server's SMTP address the
// proxy's.
type listener struct {
	upstream net.Listener // what the server accepts from
	front    loopback.Listener
}

// listen starts the proxy of f on 127.0.0.1; serverTLS, when not nil, is
// the server's TLS configuration, which the proxy shows the client after
// STARTTLS. A loopback listener that cannot be opened is a broken test
// machine: it panics.
func listen(f *Fault, serverTLS *tls.Config) net.Listener {
	upstream, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("faultsmtp: %v", err))
	}
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		upstream.Close()
		panic(fmt.Sprintf("faultsmtp: %v", err))
	}
	l := &listener{upstream: upstream}
	tlsConfigs := newTLSPair(serverTLS)
	l.front.Start(front, func(client net.Conn) {
		relay(f, client, upstream.Addr().String(), tlsConfigs)
	})
	return l
}

// Accept returns the server's end of the next proxied connection.
func (l *listener) Accept() (net.Conn, error) { return l.upstream.Accept() }

// Addr is the proxy's address, the one clients dial.
func (l *listener) Addr() net.Addr { return l.frontAddr() }

func (l *listener) frontAddr() net.Addr {
	a, _ := net.ResolveTCPAddr("tcp", l.front.Addr())
	return a
}

// Close stops both listeners and drops the proxied connections.
func (l *listener) Close() error {
	err := l.upstream.Close()
	l.front.Close()
	return err
}
