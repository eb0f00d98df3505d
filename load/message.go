package load

import (
	"fmt"
	"math/rand/v2"
	"net"
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
	return string(r.appendNth(nil, n))
}

// appendNth appends the n-th recipient to dst.
func (r recipients) appendNth(dst []byte, n int64) []byte {
	dst = append(dst, r.prefix...)
	if r.hi == 0 && r.lo == 0 {
		return dst
	}
	dst = strconv.AppendInt(dst, int64(r.lo)+n%int64(r.hi-r.lo+1), 10)
	return append(dst, r.suffix...)
}

// filler is the body text messages are made of: 78-octet lines that never
// begin with "." (no dot-stuffing needed) and are plain ASCII. It holds
// whole lines, so copies of it follow one another seamlessly: a body of
// any size is a run of fillers and a prefix of one, sent from here without
// a copy.
var filler = []byte(strings.Repeat(strings.Repeat("mailcheck load filler text ", 3)[:76]+"\r\n", 840))

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

// body is one composed message: its header, then fill octets of filler,
// then CRLF (when fill > 0; "x" CRLF when fill would end just after a CR)
// and the end of data. size is the message size before the final ".".
type body struct {
	header []byte
	fill   int
	x      bool
	size   int
}

// compose makes the body of message seq, its header in hdr (reused).
func (c *composer) compose(hdr []byte, seq int64, from string, to []byte) body {
	size := c.size.Min
	if c.size.Max > c.size.Min {
		size += c.rng.IntN(c.size.Max - c.size.Min + 1)
	}
	buf := hdr[:0]
	buf = append(buf, "Date: "...)
	buf = time.Now().AppendFormat(buf, time.RFC1123Z)
	buf = append(buf, "\r\nFrom: <"...)
	buf = append(buf, from...)
	buf = append(buf, ">\r\nTo: <"...)
	buf = append(buf, to...)
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
	b := body{header: buf, size: len(buf)}
	// Fill to the size with whole lines, ending in CRLF.
	if n := size - len(buf) - 2; n > 0 {
		b.fill, b.size = n, size
		if filler[(n-1)%len(filler)] == '\r' {
			// The cut falls just after a line's CR: end with "x" instead,
			// so lines stay CRLF-only.
			b.fill, b.x = n-1, true
		}
	}
	return b
}

// appendTo appends the body's buffers to bufs, and its end (CRLF and the
// end of data) to tail.
func (b body) appendTo(bufs net.Buffers, tail []byte) (net.Buffers, []byte) {
	bufs = append(bufs, b.header)
	for n := b.fill; n > 0; n -= len(filler) {
		bufs = append(bufs, filler[:min(n, len(filler))])
	}
	if b.x {
		tail = append(tail, 'x')
	}
	if b.fill > 0 || b.x {
		tail = append(tail, "\r\n"...)
	}
	return bufs, append(tail, ".\r\n"...)
}
