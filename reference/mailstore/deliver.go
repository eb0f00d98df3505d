package mailstore

import "github.com/mailcheck/mailcheck/reference/durable"

// Deliver stores one message in the INBOX of each user and returns only once
// every copy is on stable storage (data and directory entry fsync'd), which
// is when an SMTP server may answer 250. A user named twice gets one copy.
func (s *Store) Deliver(users []string, data [][]byte) error {
	var size int64
	for _, chunk := range data {
		size += int64(len(chunk))
	}
	files := make([]durable.File, 0, len(users))
	seen := make(map[string]bool, len(users))
	for _, user := range users {
		if seen[user] {
			continue
		}
		seen[user] = true
		mb, err := s.Inbox(user)
		if err != nil {
			return err
		}
		files = append(files, mb.deliveryFile(size, data))
	}
	_, err := s.committer.Write(files)
	return err
}
