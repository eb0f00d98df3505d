package load

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// recipients expands the To template: "{a-b}" takes the values a..b in
// turn, so load spreads over mailboxes.
type recipients struct {
	prefix, suffix string
	lo, hi         int
}

var rangeRE = regexp.MustCompile(`\{(\d+)-(\d+)\}`)

func parseRecipients(tmpl string) (recipients, error) {
	m := rangeRE.FindStringSubmatchIndex(tmpl)
	if m == nil {
		return recipients{prefix: tmpl}, nil
	}
	lo, _ := strconv.Atoi(tmpl[m[2]:m[3]])
	hi, _ := strconv.Atoi(tmpl[m[4]:m[5]])
	if hi < lo {
		return recipients{}, fmt.Errorf("load: recipient range {%d-%d} is empty", lo, hi)
	}
	return recipients{prefix: tmpl[:m[0]], suffix: tmpl[m[1]:], lo: lo, hi: hi}, nil
}

// nth returns the n-th recipient.
func (r recipients) nth(n int64) string {
	if r.hi == 0 && r.lo == 0 {
		return r.prefix
	}
	return r.prefix + strconv.FormatInt(int64(r.lo)+n%int64(r.hi-r.lo+1), 10) + r.suffix
}

// filler is the body text messages are cut from: 78-octet lines that never
// begin with "." (no dot-stuffing needed) and are plain ASCII.
var filler = func() []byte {
	line := strings.Repeat("mailcheck load filler text ", 3)[:76] + "\r\n"
	return []byte(strings.Repeat(line, (64<<20)/len(line)+1))
}()

// composer builds the wire form of each message: the header with a
// unique Message-ID and a sequence number (so a read-back can verify
// delivery), then filler up to the size, then the end of data.
type composer struct {
	runID   string
	segment int
	size    SizeSpec
	rng     *rand.Rand
}

func newComposer(runID string, segment int, size SizeSpec, seed uint64) *composer {
	return &composer{runID: runID, segment: segment, size: size, rng: rand.New(rand.NewPCG(seed, uint64(segment)))}
}

// message appends the DATA bytes (terminated by ".\r\n") of message seq to
// buf and returns them with the message size (before the terminator).
func (c *composer) message(buf []byte, seq int64, from string, to []string) ([]byte, int) {
	size := c.size.Min
	if c.size.Max > c.size.Min {
		size += c.rng.IntN(c.size.Max - c.size.Min + 1)
	}
	start := len(buf)
	buf = append(buf, "Date: "...)
	buf = time.Now().AppendFormat(buf, time.RFC1123Z)
	buf = append(buf, "\r\nFrom: <"...)
	buf = append(buf, from...)
	buf = append(buf, ">\r\nTo: <"...)
	buf = append(buf, to[0]...)
	buf = append(buf, ">\r\nSubject: mailcheck load "...)
	buf = strconv.AppendInt(buf, seq, 10)
	buf = append(buf, "\r\nMessage-ID: <"...)
	buf = strconv.AppendInt(buf, seq, 10)
	buf = append(buf, '.')
	buf = strconv.AppendInt(buf, int64(c.segment), 10)
	buf = append(buf, '.')
	buf = append(buf, c.runID...)
	buf = append(buf, "@mailcheck.invalid>\r\nX-Mailcheck-Seq: "...)
	buf = strconv.AppendInt(buf, int64(c.segment), 10)
	buf = append(buf, '/')
	buf = strconv.AppendInt(buf, seq, 10)
	buf = append(buf, "\r\n\r\n"...)
	// Fill to the size with whole lines, ending in CRLF.
	if n := size - (len(buf) - start) - 2; n > 0 {
		buf = append(buf, filler[:n]...)
		buf = append(buf, '\r', '\n')
		if buf[len(buf)-3] == '\r' {
			// The cut fell just after a line's CR: keep lines CRLF-only.
			buf[len(buf)-3] = 'x'
		}
	}
	n := len(buf) - start
	return append(buf, ".\r\n"...), n
}
