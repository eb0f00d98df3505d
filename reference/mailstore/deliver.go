package mailstore

import (
	"time"

	"github.com/mailcheck/mailcheck/reference/durable"
)

// Deliver stores one message in the INBOX of each user and returns only once
// every copy is on stable storage, which is when an SMTP server may answer
// 250. A user named twice gets one copy. Deliveries go to new/: unseen and
// without flags.
func (s *Store) Deliver(users []string, data [][]byte) error {
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
		files = append(files, mb.publishFile("new", now, "", data, nil))
	}
	_, err := s.committer.Write(files)
	return err
}
