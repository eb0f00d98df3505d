package fetch

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Request is one use of a mailbox, as `mailcheck fetch` makes it: list
// the selected messages, or fetch them (one by ID, all, or the newest to
// arrive within Wait), write them and delete them when asked.
type Request struct {
	Selection
	// All fetches every selected message (or every one Wait finds).
	All bool
	// Wait polls until a selected message arrives, for at most this long.
	Wait time.Duration
	// Waiting, when not nil, is called once Wait starts polling.
	Waiting func()
	// Dir, when not "", gets each message as a .eml file (SaveEML).
	Dir string
	// Delete deletes the fetched messages once written.
	Delete bool
}

// Fetching reports whether r fetches messages; otherwise it lists them.
func (r Request) Fetching() bool { return r.ID != "" || r.All || r.Wait > 0 }

// NotFoundError is Run's error when the message a Request names by ID is
// not in the mailbox.
type NotFoundError struct{ Selection Selection }

// Error names the message not found.
func (e *NotFoundError) Error() string { return fmt.Sprintf("no %s in the mailbox", e.Selection) }

// Run carries out r on the mailbox of o, writing to out a listing
// (WriteListing) or the messages (Deliver). Failures of the session are
// *session.Error; Wait's, *WaitTimeoutError; a missing message,
// *NotFoundError; writing a message, *WriteError. Nothing is deleted
// unless every message was written.
func Run(ctx context.Context, o Options, r Request, out io.Writer) error {
	mb, msgs, err := r.find(ctx, o)
	if err != nil {
		return err
	}
	if !r.Fetching() {
		if err := WriteListing(out, o.Target.Protocol, msgs); err != nil {
			mb.Abort()
			return err
		}
		return mb.Close()
	}
	if r.ID != "" && len(msgs) == 0 {
		mb.Close()
		return &NotFoundError{r.Selection}
	}
	if err := Deliver(out, mb, msgs, r.Dir, r.All); err != nil {
		mb.Abort()
		return err
	}
	if r.Delete {
		if err := mb.Delete(msgs); err != nil {
			mb.Abort()
			return err
		}
	}
	return mb.Close()
}

// find opens the mailbox and returns the messages r selects: waiting for
// them (the newest, unless All), or as they are.
func (r Request) find(ctx context.Context, o Options) (Mailbox, []Message, error) {
	if r.Wait > 0 {
		mb, msgs, err := Wait(ctx, o, r.Selection, r.Wait, r.Waiting)
		if err != nil {
			return nil, nil, err
		}
		if !r.All {
			msgs = msgs[len(msgs)-1:]
		}
		return mb, msgs, nil
	}
	mb, err := Open(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	msgs, err := Find(mb, r.Selection, !r.Fetching(), nil)
	if err != nil {
		mb.Abort()
		return nil, nil, err
	}
	return mb, msgs, nil
}
