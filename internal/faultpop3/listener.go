package faultpop3

import "net"

// listener hands the server, for each client it accepts, the far end of
// a pipe whose near end the proxy relays to the client.
type listener struct {
	net.Listener
	srv *server
}

// Accept waits for a client and starts the proxy's session for it.
func (l *listener) Accept() (net.Conn, error) {
	client, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	near, far := net.Pipe()
	go relay(l.srv, client, near)
	return clientAddressed{Conn: far, client: client}, nil
}

// clientAddressed is the server's end of the pipe, with the client's
// addresses: the server logs them and throttles failed logins by them.
type clientAddressed struct {
	net.Conn
	client net.Conn
}

// RemoteAddr is the client's address.
func (c clientAddressed) RemoteAddr() net.Addr { return c.client.RemoteAddr() }

// LocalAddr is the address the client connected to.
func (c clientAddressed) LocalAddr() net.Addr { return c.client.LocalAddr() }
