package fetch

import (
	"fmt"
	"io"
	"time"
)

// WriteError is Deliver's error for a message retrieved and not written:
// nothing of it may be deleted.
type WriteError struct{ Err error }

// Error is the write's error.
func (e *WriteError) Error() string { return e.Err.Error() }

// Unwrap returns the write's error.
func (e *WriteError) Unwrap() error { return e.Err }

// Deliver retrieves the messages and writes them: to dir as .eml files
// (SaveEML), printing each path to out; else to out, as an mboxrd stream
// (WriteMbox) when stream is set, or byte for byte. A failure to retrieve
// is the session's (a *session.Error); a failure to write, a *WriteError.
func Deliver(out io.Writer, mb Mailbox, msgs []Message, dir string, stream bool) error {
	now := time.Now()
	for _, m := range msgs {
		data, err := mb.Retrieve(m)
		if err != nil {
			return err
		}
		switch {
		case dir != "":
			path, err := SaveEML(dir, m, data)
			if err != nil {
				return &WriteError{err}
			}
			fmt.Fprintln(out, path)
		case stream:
			err = WriteMbox(out, data, now)
		default:
			_, err = out.Write(data)
		}
		if err != nil {
			return &WriteError{fmt.Errorf("writing message %s: %w", m.ID, err)}
		}
	}
	return nil
}
