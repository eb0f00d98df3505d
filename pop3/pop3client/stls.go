package pop3client

import "errors"

// ErrNoTLS is returned by STLS over a Wire that cannot start TLS.
var ErrNoTLS = errors.New("the connection cannot start TLS")

// STLS upgrades the connection (RFC 2595 §4): "STLS", +OK, then the
// handshake. The capabilities learnt before are forgotten: the server may
// list others once TLS is on.
func (c *Client) STLS() error {
	tw, ok := c.w.(TLSWire)
	if !ok {
		return ErrNoTLS
	}
	if _, err := c.OK("STLS"); err != nil {
		return err
	}
	c.caps = nil
	return tw.StartTLS()
}
