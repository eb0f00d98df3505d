package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// crashCensus is what a data directory holds of the crash-test messages:
// the copies in each user's INBOX and the entries in the outgoing queue.
type crashCensus struct {
	local   map[string]map[int]int // user → sequence number → files in new/ and cur/
	queued  map[int]int            // sequence number → queue entries
	damaged []string               // files that hold an incomplete message
}

// takeCrashCensus reads every message file the server would serve or
// relay: new/ and cur/ of each user's INBOX, and queue/*.msg. It skips what
// the server itself ignores: names starting with a dot (a journal replay's
// temporary files) and tmp/ (unfinished deliveries, removed at start-up).
// It must run while nothing is delivered: between rounds, or with the
// remote down and no client sending.
func takeCrashCensus(dataDir string, users []string) (crashCensus, error) {
	c := crashCensus{local: make(map[string]map[int]int), queued: make(map[int]int)}
	check := func(path string, raw []byte) (int, bool) {
		seq, err := checkCrashMessage(raw)
		if err != nil {
			c.damaged = append(c.damaged, fmt.Sprintf("%s: %v", path, err))
			return 0, false
		}
		return seq, true
	}
	for _, user := range users {
		c.local[user] = make(map[int]int)
		for _, sub := range []string{"new", "cur"} {
			dir := filepath.Join(dataDir, "mail", user, sub)
			entries, err := os.ReadDir(dir)
			if errors.Is(err, os.ErrNotExist) {
				continue // no delivery to this user yet
			}
			if err != nil {
				return c, err
			}
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
					continue
				}
				path := filepath.Join(dir, e.Name())
				raw, err := os.ReadFile(path)
				if err != nil {
					return c, err
				}
				if seq, ok := check(path, raw); ok {
					c.local[user][seq]++
				}
			}
		}
	}
	dir := filepath.Join(dataDir, "queue")
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return c, err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), ".msg") {
			continue // retry state, unfinished writes
		}
		path := filepath.Join(dir, e.Name())
		raw, err := os.ReadFile(path)
		if err != nil {
			return c, err
		}
		// The envelope is the first line; the message follows.
		_, msg, ok := bytes.Cut(raw, []byte("\n"))
		if !ok {
			c.damaged = append(c.damaged, path+": no envelope line")
			continue
		}
		if seq, ok := check(path, msg); ok {
			c.queued[seq]++
		}
	}
	return c, nil
}

// queueLen counts the data files in the queue directory.
func queueLen(dataDir string) (int, error) {
	entries, err := os.ReadDir(filepath.Join(dataDir, "queue"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), ".msg") {
			n++
		}
	}
	return n, nil
}
