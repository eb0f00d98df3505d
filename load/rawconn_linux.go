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
	// The calls in progress, for the method values below (made once, so
	// a read or write allocates nothing): a read's and a write's apart,
	// since net.Conn allows one of each at a time.
	rp       []byte
	rn       int
	rerrno   syscall.Errno
	wp       []byte
	iov      []syscall.Iovec
	scratch  []syscall.Iovec // writeBuffers' vectors, reused
	wn       int
	werrno   syscall.Errno
	readFn   func(fd uintptr) bool
	writeFn  func(fd uintptr) bool
	writevFn func(fd uintptr) bool
}

// maxIovecs is IOV_MAX on Linux: writev refuses more vectors (EINVAL).
const maxIovecs = 1024

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
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&c.rp[0])), uintptr(len(c.rp)))
		switch e {
		case syscall.EINTR:
			continue // interrupted before reading: try again, do not wait for an edge
		case syscall.EAGAIN:
			return false
		}
		c.rn, c.rerrno = int(n), e
		return true
	}
}

func (c *rawConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.rp, c.rn, c.rerrno = b, 0, 0
	err := c.rc.Read(c.readFn)
	c.rp = nil
	switch {
	case err != nil:
		return 0, c.opError("read", err)
	case c.rerrno != 0:
		return 0, c.opError("read", c.rerrno)
	case c.rn == 0:
		return 0, io.EOF
	}
	return c.rn, nil
}

func (c *rawConn) writeFD(fd uintptr) bool {
	for len(c.wp) > 0 {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&c.wp[0])), uintptr(len(c.wp)))
		switch e {
		case 0:
			c.wn += int(n)
			c.wp = c.wp[n:]
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			c.werrno = e
			return true
		}
	}
	return true
}

func (c *rawConn) Write(b []byte) (int, error) {
	c.wp, c.wn, c.werrno = b, 0, 0
	err := c.rc.Write(c.writeFn)
	c.wp = nil
	switch {
	case err != nil:
		return c.wn, c.opError("write", err)
	case c.werrno != 0:
		return c.wn, c.opError("write", c.werrno)
	}
	return c.wn, nil
}

func (c *rawConn) writevFD(fd uintptr) bool {
	for len(c.iov) > 0 {
		// writev takes at most IOV_MAX (1024) vectors; the loop writes
		// the rest.
		count := min(len(c.iov), maxIovecs)
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&c.iov[0])), uintptr(count))
		switch e {
		case 0:
			n := int(r)
			c.wn += n
			// Drop what was written.
			for n > 0 && len(c.iov) > 0 {
				if l := int(c.iov[0].Len); n >= l {
					n -= l
					c.iov = c.iov[1:]
				} else {
					c.iov[0].Base = (*byte)(unsafe.Add(unsafe.Pointer(c.iov[0].Base), n))
					c.iov[0].SetLen(l - n)
					n = 0
				}
			}
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			c.werrno = e
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
			v := syscall.Iovec{Base: &b[0]}
			v.SetLen(len(b))
			iov = append(iov, v)
		}
	}
	c.scratch = iov
	if len(iov) == 0 {
		return nil
	}
	c.iov, c.wn, c.werrno = iov, 0, 0
	err := c.rc.Write(c.writevFn)
	c.iov = nil
	switch {
	case err != nil:
		return c.opError("writev", err)
	case c.werrno != 0:
		return c.opError("writev", c.werrno)
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
