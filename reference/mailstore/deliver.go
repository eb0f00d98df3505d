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
	type copyOf struct {
		mb        *Mailbox
		uid       uint32
		published bool
	}
	copies := make([]*copyOf, 0, len(users))
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
			return err
		}
		c := &copyOf{mb: mb}
		f := mb.publishFile("new", now, "", data, &c.uid)
		indexIt := f.Published
		// Published runs once the copy is visible (and in the index);
		// Write returns after every call.
		f.Published = func(final string) {
			indexIt(final)
			c.published = true
		}
		copies = append(copies, c)
		files = append(files, f)
	}
	_, err := s.committer.Write(files)
	if err == nil {
		return nil
	}
	for _, c := range copies {
		if !c.published {
			continue
		}
		if _, rbErr := c.mb.Expunge([]uint32{c.uid}); rbErr != nil {
			err = errors.Join(err, fmt.Errorf("mailstore: a copy for %s stays delivered: %w", c.mb.user, rbErr))
		}
	}
	return err
}
