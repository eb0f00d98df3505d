// Package transcript prints what a user-agent session sends and receives,
// line by line, as "C: " (client) and "S: " (server) lines with "# " notes,
// the way swaks shows an SMTP session: every byte on the wire is accounted
// for, secrets (AUTH responses, POP3 PASS, IMAP LOGIN passwords) are masked,
// and message data is summarised unless the transcript is verbose.
package transcript

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/mailcheck/mailcheck/internal/wireescape"
)

// Dir tells who sent a line.
type Dir byte

// The directions: the client (this program) and the server.
const (
	Client Dir = 'C'
	Server Dir = 'S'
)

// Mask replaces every registered secret in the transcript.
const Mask = "****"

// Transcript writes a session's lines to a writer as they happen, so a
// session that hangs shows how far it got. A nil *Transcript records
// nothing, so callers need no checks. It is safe for concurrent use (the
// IMAP client reads and writes in different goroutines).
type Transcript struct {
	mu      sync.Mutex
	w       io.Writer
	verbose bool
	secrets []string
	// data counts message data per direction since its block began, for
	// the summary line.
	data [2]dataCount
}

// dataCount counts a block of data: its octets, its line ends, and
// whether it ends inside a line (which counts as one more line).
type dataCount struct {
	octets, lineEnds int
	open             bool
}

// New returns a transcript that writes to w. verbose shows every line of
// message data instead of one summary line per block.
func New(w io.Writer, verbose bool) *Transcript {
	return &Transcript{w: w, verbose: verbose}
}

// Secret registers s: wherever it appears in a line or a note, the
// transcript shows Mask instead. Callers register every form a secret takes
// on the wire (the password, its base64 in AUTH LOGIN, the base64 AUTH
// PLAIN response, an IMAP-quoted password), before it is sent. Empty
// strings are ignored.
func (t *Transcript) Secret(s string) {
	if t == nil || s == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.secrets = append(t.secrets, s)
	// Longer secrets first, so a secret that contains a shorter one is
	// masked whole rather than leaving its remainder visible.
	for i := len(t.secrets) - 1; i > 0 && len(t.secrets[i]) > len(t.secrets[i-1]); i-- {
		t.secrets[i], t.secrets[i-1] = t.secrets[i-1], t.secrets[i]
	}
}

// Note records a remark of this program, such as "TLS established".
func (t *Transcript) Note(format string, args ...any) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.emit("# " + fmt.Sprintf(format, args...))
}

// Line records protocol lines sent in dir: b may hold several lines, each
// shown on its own; control and 8-bit octets are escaped so that bare CR,
// bare LF and binary data are visible.
func (t *Transcript) Line(dir Dir, b []byte) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(b) > 0 {
		line, rest := cutLine(b)
		t.emit(string(dir) + ": " + escape(line))
		b = rest
	}
}

// Data records message data (an SMTP DATA block, a POP3 RETR reply, an
// IMAP literal) sent in dir. A verbose transcript shows its lines; otherwise
// the octets are counted and EndData prints one summary line.
func (t *Transcript) Data(dir Dir, b []byte) {
	if t == nil || len(b) == 0 {
		return
	}
	if t.verbose {
		t.Line(dir, b)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := &t.data[dirIndex(dir)]
	c.octets += len(b)
	c.lineEnds += bytes.Count(b, []byte("\n"))
	c.open = b[len(b)-1] != '\n'
}

// EndData ends a block of message data in dir: a transcript that is not
// verbose prints "<N octets (L lines) of what>".
func (t *Transcript) EndData(dir Dir, what string) {
	if t == nil || t.verbose {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := &t.data[dirIndex(dir)]
	lines := c.lineEnds
	if c.open {
		lines++
	}
	t.emit(fmt.Sprintf("%c: <%d octets (%d lines) of %s>", dir, c.octets, lines, what))
	*c = dataCount{}
}

func dirIndex(dir Dir) int {
	if dir == Server {
		return 1
	}
	return 0
}

// emit writes one line, secrets masked; t.mu is held.
func (t *Transcript) emit(s string) {
	for _, secret := range t.secrets {
		s = strings.ReplaceAll(s, secret, Mask)
		// The line was escaped: a secret with escaped octets appears in
		// its escaped form.
		if esc := escape([]byte(secret)); esc != secret {
			s = strings.ReplaceAll(s, esc, Mask)
		}
	}
	io.WriteString(t.w, s+"\n")
}

// escape renders a line as every transcript of mailcheck does: its final
// CRLF dropped, printable ASCII as it is, a backslash doubled (so IMAP's
// \Seen reads \\Seen, and the text "\r" is not taken for a bare CR), and
// every other octet escaped (\r, \n, \t, \xNN), so a bare CR, a bare LF
// or 8-bit data is visible.
func escape(b []byte) string { return wireescape.Line(b) }

// cutLine splits off the first line of b, its LF included.
func cutLine(b []byte) (line, rest []byte) {
	for i, c := range b {
		if c == '\n' {
			return b[:i+1], b[i+1:]
		}
	}
	return b, nil
}
