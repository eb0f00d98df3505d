package mailstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/mailcheck/mailcheck/reference/durable"
)

// Deliver stores one message in the INBOX of each user and returns only once
// every copy is on stable storage, which is when an SMTP server may answer
// 250. A user named twice gets one copy. Deliveries go to new/: unseen and
// without flags.
//
// On error nothing is left delivered: the client is told to send the message
// again, so copies already published (to some of the users, before the disk
// filled up) are expunged, or every retry would add one more. Only if that
// fails too does a copy stay: a duplicate is better than a loss. The error
// wraps the storage error (ENOSPC, EIO), so the SMTP reply can say which.
func (s *Store) Deliver(users []string, data [][]byte) error {
	_, err := s.DeliverUndoable(users, data)
	return err
}

// Delivery is a message that DeliverUndoable stored: on stable storage, and
// still possible to take back.
type Delivery struct {
	copies []*deliveredCopy
}

type deliveredCopy struct {
	mb        *Mailbox
	uid       uint32
	published bool
}

// DeliverUndoable is Deliver for a caller that may still refuse the message
// after it is stored (an SMTP transaction whose other recipients could not
// be queued): Undo takes it back.
func (s *Store) DeliverUndoable(users []string, data [][]byte) (*Delivery, error) {
	d := &Delivery{copies: make([]*deliveredCopy, 0, len(users))}
	files := make([]durable.File, 0, len(users))
	seen := make(map[string]bool, len(users))
	now := time.Now()
	for _, user := range users {
		if seen[user] {
			continue
		}
		seen[user] = true
		mb, err := s.Inbox(user)
		if err != nil {
			return nil, err
		}
		c := &deliveredCopy{mb: mb}
		f := mb.publishFile("new", now, "", data, &c.uid)
		indexIt := f.Published
		// Published runs once the copy is visible (and in the index);
		// Write returns after every call.
		f.Published = func(final string) {
			indexIt(final)
			c.published = true
		}
		d.copies = append(d.copies, c)
		files = append(files, f)
	}
	if _, err := s.committer.Write(files); err != nil {
		if undoErr := d.Undo(); undoErr != nil {
			err = errors.Join(err, undoErr)
		}
		return nil, err
	}
	return d, nil
}

// Undo expunges every copy of the message that is still there. A copy that
// cannot be taken back (its mailbox's UID list cannot be rewritten, as on a
// full disk) stays, readable and indexed, and the error says whose it is: a
// duplicate once the client retries, never a loss or a reused UID.
func (d *Delivery) Undo() error {
	var errs []error
	for _, c := range d.copies {
		if !c.published {
			continue
		}
		if _, err := c.mb.Expunge([]uint32{c.uid}); err != nil {
			errs = append(errs, fmt.Errorf("mailstore: a copy for %s stays delivered: %w", c.mb.user, err))
			continue
		}
		c.published = false
	}
	return errors.Join(errs...)
}
