//go:build linux && (amd64 || arm64)

package durable

import (
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

const journalSupported = true

// fdatasync flushes f's data (and only the metadata needed to read it).
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

// syncfs flushes every dirty page and inode of the file system holding f:
// one call makes all applied journal records durable.
func syncfs(f *os.File) error {
	_, _, errno := syscall.Syscall(sysSyncfs, f.Fd(), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// oTmpfile is O_TMPFILE: an unnamed inode in a directory, given a name
// only once it is complete (linkat). It replaces the Maildir tmp/ file and
// its rename with one link, and never leaves a name to clean up.
const oTmpfile = 0x410000

const atSymlinkFollow = 0x400

var atFDCWD = -100

// openUnnamed opens an unnamed file in dir, or fails where the file system
// does not support it.
func openUnnamed(dir string) (*os.File, error) {
	return os.OpenFile(dir, syscall.O_WRONLY|oTmpfile, 0o600)
}

// linkUnnamed gives the unnamed file f the name path.
func linkUnnamed(f *os.File, path string) error {
	from, err := syscall.BytePtrFromString("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		return err
	}
	to, err := syscall.BytePtrFromString(path)
	if err != nil {
		return err
	}
	_, _, errno := syscall.Syscall6(syscall.SYS_LINKAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(from)),
		uintptr(atFDCWD), uintptr(unsafe.Pointer(to)), atSymlinkFollow, 0)
	if errno != 0 {
		return &os.LinkError{Op: "linkat", Old: f.Name(), New: path, Err: errno}
	}
	return nil
}
