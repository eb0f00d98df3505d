package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Mail readers that run while the crash test sends and kills: they fetch
// every message the server shows them, over POP3 and over IMAP, and check
// that each is whole. A half-written message must never be visible.

// readerIOTimeout bounds every network wait of a reader.
const readerIOTimeout = 10 * time.Second

// readerPause is how long a reader waits before looking again for new
// messages, so that it does not spin.
const readerPause = 20 * time.Millisecond

// readerTally collects what the readers saw, across rounds.
type readerTally struct {
	mu      sync.Mutex
	seen    map[string]map[int]bool // user → messages read whole
	reads   map[string]int          // "POP3", "IMAP" → messages read
	damaged []string
}

func newReaderTally() *readerTally {
	return &readerTally{seen: make(map[string]map[int]bool), reads: make(map[string]int)}
}

// readerProgress is what one reader has read of one mailbox, kept across
// restarts (UIDL and UIDs survive them), so that each round reads only
// what is new: the census after each restart checks the rest.
type readerProgress struct {
	popDone  map[string]bool // UIDLs read over POP3
	imapLast imap.UID        // the highest UID read over IMAP
}

func newReaderProgress() *readerProgress {
	return &readerProgress{popDone: make(map[string]bool)}
}

func (t *readerTally) saw(proto, user string, raw []byte) {
	seq, err := checkCrashMessage(raw)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.damaged = append(t.damaged, fmt.Sprintf("%s showed %s a damaged message: %v", proto, user, err))
		return
	}
	if t.seen[user] == nil {
		t.seen[user] = make(map[int]bool)
	}
	t.seen[user][seq] = true
	t.reads[proto]++
}

// sleepOrStop pauses a reader; it reports false once stop is closed.
func sleepOrStop(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return false
	case <-time.After(readerPause):
		return true
	}
}

// readPOP3 logs in to user's maildrop again and again (a POP3 session sees
// the messages of its login, RFC 1939 §8), and RETRs each message whose
// UIDL it has not read yet. It returns nil when stop is closed, or the
// first error: a connection error once the server is killed.
func readPOP3(addr, user string, progress *readerProgress, stop <-chan struct{}, tally *readerTally) error {
	for range 10000 {
		err := pop3Pass(addr, user, progress.popDone, tally)
		if err != nil && !errors.Is(err, errMaildropInUse) {
			return err
		}
		if !sleepOrStop(stop) {
			return nil
		}
	}
	return nil
}

// errMaildropInUse is RFC 2449 §8.1.2 [IN-USE]: the previous session's
// lock, retried.
var errMaildropInUse = errors.New("maildrop in use")

// pop3Refusal is an -ERR reply.
type pop3Refusal struct{ command, reply string }

func (r *pop3Refusal) Error() string { return r.command + ": " + r.reply }

// pop3Conn is a POP3 client session, spoken by hand.
type pop3Conn struct {
	conn net.Conn
	r    *bufio.Reader
}

// loginPOP3 connects and logs in as user (USER/PASS, RFC 1939 §7).
func loginPOP3(addr, user string) (*pop3Conn, error) {
	conn, err := net.DialTimeout("tcp", addr, readerIOTimeout)
	if err != nil {
		return nil, err
	}
	c := &pop3Conn{conn: conn, r: bufio.NewReader(conn)}
	for _, command := range []string{"", "USER " + user, "PASS pw"} {
		if _, err := c.cmd(command); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return c, nil
}

func (c *pop3Conn) readLine() (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(readerIOTimeout))
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(line, "\r\n"), nil
}

// cmd sends command ("" reads the greeting) and returns the +OK line.
func (c *pop3Conn) cmd(command string) (string, error) {
	if command != "" {
		c.conn.SetWriteDeadline(time.Now().Add(readerIOTimeout))
		if _, err := c.conn.Write([]byte(command + "\r\n")); err != nil {
			return "", err
		}
	}
	line, err := c.readLine()
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(line, "+OK") {
		if strings.HasPrefix(line, "-ERR [IN-USE]") {
			return "", errMaildropInUse
		}
		return "", &pop3Refusal{command, line}
	}
	return line, nil
}

// multiLine reads the rest of a multi-line reply and undoes the
// byte-stuffing (RFC 1939 §3).
func (c *pop3Conn) multiLine() ([]string, error) {
	var lines []string
	for range 1 << 20 {
		line, err := c.readLine()
		if err != nil {
			return nil, err
		}
		if line == "." {
			return lines, nil
		}
		lines = append(lines, strings.TrimPrefix(line, "."))
	}
	return nil, errors.New("multi-line reply without end")
}

// quit ends the session without deletions (none were marked).
func (c *pop3Conn) quit() error {
	defer c.conn.Close()
	_, err := c.cmd("QUIT")
	return err
}

// pop3Pass is one POP3 session: log in, UIDL, RETR of the messages not
// read yet, QUIT (no DELE: the census needs every message).
func pop3Pass(addr, user string, done map[string]bool, tally *readerTally) error {
	c, err := loginPOP3(addr, user)
	if err != nil {
		return err
	}
	defer c.conn.Close()
	if _, err := c.cmd("UIDL"); err != nil {
		return err
	}
	listing, err := c.multiLine()
	if err != nil {
		return err
	}
	for _, entry := range listing {
		num, uid, _ := strings.Cut(entry, " ")
		if done[uid] {
			continue
		}
		if _, err := c.cmd("RETR " + num); err != nil {
			return err
		}
		lines, err := c.multiLine()
		if err != nil {
			return err
		}
		tally.saw("POP3", user, []byte(strings.Join(lines, "\r\n")+"\r\n"))
		done[uid] = true
	}
	return c.quit()
}

// pop3MessageCount returns the number of messages POP3 shows user (STAT,
// RFC 1939 §5).
func pop3MessageCount(addr, user string) (int, error) {
	c, err := loginPOP3(addr, user)
	if err != nil {
		return 0, err
	}
	defer c.conn.Close()
	line, err := c.cmd("STAT")
	if err != nil {
		return 0, err
	}
	var n, octets int
	if _, err := fmt.Sscanf(line, "+OK %d %d", &n, &octets); err != nil {
		return 0, fmt.Errorf("STAT: %q: %v", line, err)
	}
	return n, c.quit()
}

// readIMAP logs in once, EXAMINEs the INBOX (read-only: nothing it does
// changes the mailbox) and fetches every new UID as it appears. The
// mailbox's UIDVALIDITY never changes in the test, so UIDs read before a
// restart need not be read again. It returns nil when stop is closed, or
// the first error: a connection error once the server is killed.
func readIMAP(addr, user string, progress *readerProgress, stop <-chan struct{}, tally *readerTally) error {
	conn, err := net.DialTimeout("tcp", addr, readerIOTimeout)
	if err != nil {
		return err
	}
	c := imapclient.New(conn, nil)
	defer c.Close()
	// within bounds one command: go-imap's own timeouts are longer than
	// the test wants to wait, so a stuck command closes the connection.
	within := func(f func() error) error {
		watchdog := time.AfterFunc(readerIOTimeout, func() { c.Close() })
		defer watchdog.Stop()
		return f()
	}
	if err := within(func() error { return c.Login(user, "pw").Wait() }); err != nil {
		return err
	}
	if err := within(func() error {
		_, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
		return err
	}); err != nil {
		return err
	}
	body := &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}
	for range 100000 {
		var msgs []*imapclient.FetchMessageBuffer
		err := within(func() error {
			var err error
			// UID last+1:* (RFC 9051 §6.4.9); with nothing new the server
			// returns the last message again, skipped below.
			msgs, err = c.Fetch(imap.UIDSet{{Start: progress.imapLast + 1, Stop: 0}}, body).Collect()
			return err
		})
		if err != nil {
			return err
		}
		newest := progress.imapLast
		for _, m := range msgs {
			if m.UID <= progress.imapLast || len(m.BodySection) == 0 {
				continue
			}
			tally.saw("IMAP", user, m.BodySection[0].Bytes)
			newest = max(newest, m.UID)
		}
		progress.imapLast = newest
		if !sleepOrStop(stop) {
			return nil
		}
	}
	return nil
}
