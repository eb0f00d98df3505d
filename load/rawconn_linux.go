package load

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// rawConn reads and writes a TCP connection with raw system calls, behind
// the runtime's poller (syscall.RawConn): the same calls as net.TCPConn
// makes (try, and on EAGAIN wait for readiness, then try again), without
// the runtime's bookkeeping around a blocking system call. The socket is
// non-blocking, so the calls never block; and skipping entersyscall
// matters here: when every goroutine waits on the network, the runtime's
// monitor thread sleeps, and every ordinary system call woke it (a futex
// wake and a context switch per read and write, 5-10% of the generator's
// CPU in a profile of 10 sessions without pipelining, on a machine whose
// other CPU runs the server under test).
type rawConn struct {
	*net.TCPConn
	rc syscall.RawConn
	// The call in progress, for the method values below (made once, so
	// a read or write allocates nothing).
	p        []byte
	iov      []syscall.Iovec
	scratch  []syscall.Iovec // writeBuffers' vectors, reused
	n        int
	errno    syscall.Errno
	readFn   func(fd uintptr) bool
	writeFn  func(fd uintptr) bool
	writevFn func(fd uintptr) bool
}

// newRawConn wraps a TCP connection; other connections are returned as
// they are.
func newRawConn(nc net.Conn) net.Conn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nc
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nc
	}
	c := &rawConn{TCPConn: tc, rc: rc}
	c.readFn, c.writeFn, c.writevFn = c.readFD, c.writeFD, c.writevFD
	return c
}

func (c *rawConn) readFD(fd uintptr) bool {
	var p unsafe.Pointer
	if len(c.p) > 0 {
		p = unsafe.Pointer(&c.p[0])
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(p), uintptr(len(c.p)))
	if e == syscall.EAGAIN || e == syscall.EINTR {
		return false
	}
	c.n, c.errno = int(n), e
	return true
}

func (c *rawConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.p, c.n, c.errno = b, 0, 0
	err := c.rc.Read(c.readFn)
	c.p = nil
	switch {
	case err != nil:
		return 0, c.opError("read", err)
	case c.errno != 0:
		return 0, c.opError("read", c.errno)
	case c.n == 0:
		return 0, io.EOF
	}
	return c.n, nil
}

func (c *rawConn) writeFD(fd uintptr) bool {
	for len(c.p) > 0 {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&c.p[0])), uintptr(len(c.p)))
		switch e {
		case 0:
			c.n += int(n)
			c.p = c.p[n:]
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			c.errno = e
			return true
		}
	}
	return true
}

func (c *rawConn) Write(b []byte) (int, error) {
	c.p, c.n, c.errno = b, 0, 0
	err := c.rc.Write(c.writeFn)
	c.p = nil
	switch {
	case err != nil:
		return c.n, c.opError("write", err)
	case c.errno != 0:
		return c.n, c.opError("write", c.errno)
	}
	return c.n, nil
}

func (c *rawConn) writevFD(fd uintptr) bool {
	for len(c.iov) > 0 {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&c.iov[0])), uintptr(len(c.iov)))
		switch e {
		case 0:
			c.n += int(n)
			// Drop what was written.
			for n > 0 && len(c.iov) > 0 {
				if l := uintptr(c.iov[0].Len); n >= l {
					n -= l
					c.iov = c.iov[1:]
				} else {
					c.iov[0].Base = (*byte)(unsafe.Add(unsafe.Pointer(c.iov[0].Base), n))
					c.iov[0].Len -= uint64(n)
					n = 0
				}
			}
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			c.errno = e
			return true
		}
	}
	return true
}

// writeBuffers writes bufs with one writev where the kernel takes it all.
func (c *rawConn) writeBuffers(bufs [][]byte) error {
	iov := c.scratch[:0]
	for _, b := range bufs {
		if len(b) > 0 {
			iov = append(iov, syscall.Iovec{Base: &b[0], Len: uint64(len(b))})
		}
	}
	c.scratch = iov
	if len(iov) == 0 {
		return nil
	}
	c.iov, c.n, c.errno = iov, 0, 0
	err := c.rc.Write(c.writevFn)
	c.iov = nil
	switch {
	case err != nil:
		return c.opError("write", err)
	case c.errno != 0:
		return c.opError("write", c.errno)
	}
	return nil
}

// opError wraps an error as net.TCPConn does: *net.OpError around an
// *os.SyscallError (a system call's errno) or the poller's error (a
// deadline, a closed connection), so errors.Is and net.Error work alike.
func (c *rawConn) opError(op string, err error) error {
	if errno, ok := err.(syscall.Errno); ok {
		err = os.NewSyscallError(op, errno)
	}
	// syscall.RawConn wraps the poller's errors as a "raw-read" or
	// "raw-write" *net.OpError; net.TCPConn has the bare cause in its
	// one OpError, and so must an error class's example.
	var inner *net.OpError
	if errors.As(err, &inner) {
		err = inner.Err
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
