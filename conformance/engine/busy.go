package engine

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
)

// A busy server is not a broken one: it refuses or drops connections, or
// says "try later" (SMTP 421, POP3 [SYS/TEMP] or [IN-USE], IMAP BYE at the
// greeting, NO [UNAVAILABLE]). A check that meets one before it reaches
// its subject ends with a *BusyError; the runner then lowers the run's
// parallelism and runs the check again afresh, after a backoff, instead of
// recording Error (see Retry).

// BusyError says the server is temporarily unable to serve the check:
// returned from Run (or passed to Require), the runner retries the check.
type BusyError struct {
	Reason string
	err    error
}

func (e *BusyError) Error() string { return "server busy: " + e.Reason }

// Unwrap keeps the causes (what %w wrapped) in the chain.
func (e *BusyError) Unwrap() error { return e.err }

// Busy returns a *BusyError with a formatted reason; a %w verb wraps its
// error, as fmt.Errorf does.
func Busy(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &BusyError{Reason: err.Error(), err: err}
}

// IsBusy reports whether err says the server was busy.
func IsBusy(err error) bool {
	var b *BusyError
	return errors.As(err, &b)
}

// refused reports whether a connect failed because the server turned the
// connection away (refused or reset it): a server at its connection limit
// does that, and may take the next one.
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// droppedBeforeGreeting reports whether a read of the greeting found the
// connection closed or reset before the server sent a byte: a server that
// accepts connections beyond its limit and drops them does that.
func droppedBeforeGreeting(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// BusyGreeting reports whether a server's first line says it cannot serve
// now but may later: SMTP 421 "Service not available, closing
// transmission channel" (RFC 5321 §3.8, §4.2.3); POP3 -ERR with [SYS/TEMP]
// (RFC 3206 §4, a temporary system failure) or [IN-USE] (RFC 2449 §8.1.2);
// IMAP * BYE, the greeting of a server "not willing to accept a
// connection" (RFC 9051 §7.1.5).
func BusyGreeting(line string) bool {
	switch {
	case strings.HasPrefix(line, "421"):
		return true
	case strings.HasPrefix(line, "-ERR"):
		return BusyPOP3(line)
	}
	return strings.HasPrefix(strings.ToUpper(line), "* BYE")
}

// BusyPOP3 reports whether a POP3 -ERR status says the refusal is
// temporary: [SYS/TEMP] (RFC 3206 §4) or [IN-USE] (RFC 2449 §8.1.2).
func BusyPOP3(status string) bool {
	s := strings.ToUpper(status)
	return strings.HasPrefix(s, "-ERR") && (strings.Contains(s, "[SYS/TEMP]") || strings.Contains(s, "[IN-USE]"))
}
