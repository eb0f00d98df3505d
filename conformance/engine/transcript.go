package engine

import (
	"strconv"
	"sync"
	"time"

	"github.com/mailcheck/mailcheck/internal/wireescape"
)

// Bounds of one check's transcript: the evidence a verdict needs is in its
// first exchanges (a check against a conforming server records tens of
// lines, a few KiB), and a server that floods must not make the report,
// which keeps every check's transcript, grow with the flood: 125 checks
// fully flooded hold about 30 MB.
const (
	maxTranscriptLines  = 2000
	maxTranscriptOctets = 128 << 10 // of escaped text
)

// Transcript records what a check sent and received, up to
// maxTranscriptLines lines and maxTranscriptOctets octets of text; what
// comes after is counted, and Lines ends with a note saying how much was
// left out.
type Transcript struct {
	mu     sync.Mutex
	start  time.Time
	lines  []Line
	octets int
	// dropped and droppedOctets count what was not recorded; droppedAt
	// is when recording stopped.
	dropped, droppedOctets int
	droppedAt              time.Duration
	// credentials hides passwords and SASL secrets in client lines.
	credentials credentialRedactor
}

func newTranscript() *Transcript { return &Transcript{start: time.Now()} }

// add records data as one or more lines.
func (tr *Transcript) add(dir Direction, data []byte) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	at := time.Since(tr.start)
	for len(data) > 0 {
		end := len(data)
		for i, c := range data {
			if c == '\n' {
				end = i + 1
				break
			}
		}
		if tr.dropped > 0 || len(tr.lines) >= maxTranscriptLines || tr.octets+end > maxTranscriptOctets {
			if tr.dropped == 0 {
				tr.droppedAt = at
			}
			tr.dropped++
			tr.droppedOctets += end
		} else {
			text := EscapeLine(tr.credentials.line(dir, data[:end]))
			tr.octets += len(text)
			tr.lines = append(tr.lines, Line{At: at, AtMS: ms(at), Dir: dir, Text: text})
		}
		data = data[end:]
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Lines returns the recorded lines, and a note of what was left out.
func (tr *Transcript) Lines() []Line {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	lines := append([]Line(nil), tr.lines...)
	if tr.dropped > 0 {
		lines = append(lines, Line{At: tr.droppedAt, AtMS: ms(tr.droppedAt), Dir: DirNote,
			Text: "transcript truncated: " + strconv.Itoa(tr.dropped) + " more lines (" + strconv.Itoa(tr.droppedOctets) + " octets) not recorded"})
	}
	return lines
}

// EscapeLine renders a line for the transcript: a final CRLF is dropped,
// every other control or non-ASCII byte is escaped, and a backslash is
// doubled so that the line reads back unambiguously (see
// internal/wireescape, which the user agent's transcripts share).
func EscapeLine(b []byte) string { return wireescape.Line(b) }
