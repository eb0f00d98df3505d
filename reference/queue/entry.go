package queue

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/reference/durable"
	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
)

// An entry is one message for the recipients of one domain. On disk it is
// two files in Dir:
//
//	<id>.msg    the envelope as one JSON line, then the message bytes;
//	            written once with Committer.Write and never changed
//	<id>.state  the retry state as JSON, replaced with Committer.WriteFile;
//	            missing means a fresh entry, due now, for every recipient
//
// The data file is removed before the state file, so a crash in between
// leaves an orphan state file (removed by Open) and never a data file
// without the state that says which recipients are done.
const (
	dataSuffix  = ".msg"
	stateSuffix = ".state"
	tmpSuffix   = ".tmp"
)

type entry struct {
	id    string
	env   envelope
	state retryState
	// inFlight marks an entry a delivery session has taken; no other
	// session may take it, so a message is not delivered twice.
	inFlight bool
}

// envelope is the immutable header line of the data file.
type envelope struct {
	From     string    `json:"from"`
	Rcpts    []string  `json:"rcpts"`
	Domain   string    `json:"domain"`
	Body8bit bool      `json:"body8bit,omitempty"`
	Created  time.Time `json:"created"`
}

// retryState is the mutable part of an entry.
type retryState struct {
	// Pending are the recipients not yet delivered nor failed.
	Pending []string `json:"pending"`
	// Failed are permanent failures whose bounce has not been delivered
	// yet.
	Failed      []failure `json:"failed,omitempty"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
}

func (s retryState) clone() retryState {
	s.Pending = append([]string(nil), s.Pending...)
	s.Failed = append([]failure(nil), s.Failed...)
	return s
}

// failure is one recipient that will not be delivered, as the bounce
// reports it (RFC 3464 §2.3).
type failure struct {
	Rcpt string `json:"rcpt"`
	// Status is the RFC 3463 status code, class 5.
	Status string `json:"status"`
	// Reason is the human-readable explanation.
	Reason string `json:"reason"`
	// Diagnostic is the SMTP reply that caused the failure, on one line;
	// empty when there was none.
	Diagnostic string `json:"diagnostic,omitempty"`
	// RemoteMTA is the host that gave Diagnostic, if any.
	RemoteMTA string `json:"remote_mta,omitempty"`
}

func (q *Queue) dataPath(id string) string  { return filepath.Join(q.opts.Dir, id+dataSuffix) }
func (q *Queue) statePath(id string) string { return filepath.Join(q.opts.Dir, id+stateSuffix) }

// newID returns a unique entry id that sorts by creation time: the time in
// fixed-width hex, then random bits against collisions.
func newID(now time.Time) string {
	var random [6]byte
	rand.Read(random[:])
	return fmt.Sprintf("%016x-%s", uint64(now.UnixNano()), hex.EncodeToString(random[:]))
}

// writeEntries publishes the data files of new entries, all with one
// directory fsync.
func (q *Queue) writeEntries(entries []*entry, msg [][]byte) error {
	files := make([]durable.File, 0, len(entries))
	for _, e := range entries {
		header, err := json.Marshal(e.env)
		if err != nil {
			return err
		}
		data := make([][]byte, 0, len(msg)+1)
		data = append(data, append(header, '\n'))
		data = append(data, msg...)
		final := q.dataPath(e.id)
		files = append(files, durable.File{
			TmpPath:   final + tmpSuffix,
			FinalName: func() (string, error) { return final, nil },
			Data:      data,
		})
	}
	finals, err := q.opts.Committer.Write(files)
	if err != nil {
		// The caller will refuse the message and the client will send it
		// again, so entries already published must go or they would be
		// delivered twice.
		for _, path := range finals {
			if rmErr := q.opts.Committer.Remove(path); rmErr != nil {
				q.log.Error("queue: cannot remove a partly enqueued entry", "path", path, "err", rmErr)
			}
		}
		return err
	}
	return nil
}

// readMessage returns the message bytes of an entry (the data file after
// the envelope line).
func (q *Queue) readMessage(e *entry) ([]byte, error) {
	data, err := os.ReadFile(q.dataPath(e.id))
	if err != nil {
		return nil, err
	}
	_, msg, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return nil, fmt.Errorf("%s: no envelope line", q.dataPath(e.id))
	}
	return msg, nil
}

// saveState durably replaces the state file of an entry.
func (q *Queue) saveState(e *entry, state retryState) error {
	data, err := json.Marshal(state)
	if err != nil {
		return err
	}
	return q.opts.Committer.WriteFile(q.statePath(e.id), data)
}

// removeFiles deletes an entry from disk: the data file first (see the
// comment on dataSuffix).
func (q *Queue) removeFiles(e *entry) error {
	if err := q.opts.Committer.Remove(q.dataPath(e.id)); err != nil {
		return err
	}
	return q.opts.Committer.Remove(q.statePath(e.id))
}

// load reads the entries in Dir and clears what a crash left behind:
// temporary files and state files without data.
func (q *Queue) load() ([]*entry, error) {
	dirents, err := os.ReadDir(q.opts.Dir)
	if err != nil {
		return nil, err
	}
	haveData := make(map[string]bool)
	for _, d := range dirents {
		if id, ok := strings.CutSuffix(d.Name(), dataSuffix); ok && d.Type().IsRegular() {
			haveData[id] = true
		}
	}
	var entries []*entry
	for _, d := range dirents {
		name := d.Name()
		path := filepath.Join(q.opts.Dir, name)
		switch {
		case strings.HasSuffix(name, tmpSuffix):
			// An unfinished write: the message was never acknowledged.
			if err := os.Remove(path); err != nil {
				q.log.Error("queue: cannot remove temporary file", "path", path, "err", err)
			}
		case strings.HasSuffix(name, stateSuffix):
			if id := strings.TrimSuffix(name, stateSuffix); !haveData[id] {
				if err := q.opts.Committer.Remove(path); err != nil {
					q.log.Error("queue: cannot remove orphan state file", "path", path, "err", err)
				}
			}
		case strings.HasSuffix(name, dataSuffix) && haveData[strings.TrimSuffix(name, dataSuffix)]:
			e, err := q.loadEntry(strings.TrimSuffix(name, dataSuffix))
			if err != nil {
				// Leave the file for an operator rather than lose mail.
				q.log.Error("queue: cannot load entry; left in place", "path", path, "err", err)
				continue
			}
			if len(e.state.Pending) == 0 && len(e.state.Failed) == 0 {
				if err := q.removeFiles(e); err != nil {
					q.log.Error("queue: cannot remove finished entry", "id", e.id, "err", err)
				}
				continue
			}
			entries = append(entries, e)
		}
	}
	return entries, nil
}

func (q *Queue) loadEntry(id string) (*entry, error) {
	f, err := os.Open(q.dataPath(id))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	header, err := bufio.NewReader(f).ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("reading envelope: %w", err)
	}
	e := &entry{id: id}
	if err := json.Unmarshal(header, &e.env); err != nil {
		return nil, fmt.Errorf("parsing envelope: %w", err)
	}
	if len(e.env.Rcpts) == 0 {
		return nil, errors.New("envelope without recipients")
	}
	if e.env.Domain == "" {
		e.env.Domain = smtpaddr.Domain(e.env.Rcpts[0])
	}
	e.state = retryState{Pending: e.env.Rcpts}
	data, err := os.ReadFile(q.statePath(id))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Fresh entry: due now, every recipient pending.
	case err != nil:
		return nil, err
	default:
		var state retryState
		if err := json.Unmarshal(data, &state); err != nil {
			// Delivering again is better than losing the message.
			q.log.Error("queue: bad state file; retrying every recipient", "id", id, "err", err)
		} else {
			e.state = state
		}
	}
	return e, nil
}
