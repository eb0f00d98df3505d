//go:build !linux

package load

import "net"

// newRawConn returns nc: the raw system call path is Linux's.
func newRawConn(nc net.Conn) net.Conn { return nc }
