package smtpserver

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/smtpwire"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// FuzzReadData checks the DATA reader against the dot-stuffing writer: a
// clean message (ASCII without NUL, CRLF lines of at most 1000 octets)
// comes back byte-exact, and a message with a bare CR or LF or a NUL is
// always refused.
func FuzzReadData(f *testing.F) {
	for _, seed := range []string{
		"", ".", "..", ".\r\n", "a\r\n.\r\nb\r\n", "a\n.\nb", "a\r.\r", "x\r\n..\r\n.x\r\n",
		"\r\n.\r\n", "MAIL FROM:<a@b>\r\n", "caf\xc3\xa9\r\n", strings.Repeat("y", 1001), "a\x00b\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		wire := smtpwire.AppendDotStuffed(nil, msg)
		want := msg
		if len(msg) > 0 && !bytes.HasSuffix(msg, []byte("\r\n")) {
			want = append(append([]byte(nil), msg...), '\r', '\n')
		}
		var buf bytes.Buffer
		r := bufio.NewReaderSize(bytes.NewReader(wire), readBufferSize)
		fault, err := readData(r, &buf, 1<<20, false, maxTextLine)
		if err != nil {
			t.Fatalf("readData did not find the end of %q: %v", wire, err)
		}
		bare := hasBareLineEnd(want)
		switch {
		case bare && fault == refusedNot:
			t.Fatalf("bare CR/LF accepted in %q", msg)
		case !bare && fault == refusedNot && !bytes.Equal(buf.Bytes(), want):
			t.Fatalf("got %q, want %q", buf.Bytes(), want)
		case bytes.IndexByte(want, 0) >= 0 && fault == refusedNot:
			t.Fatalf("NUL accepted in %q", msg)
		case !bare && isASCII(want) && bytes.IndexByte(want, 0) < 0 && maxLine(want) <= maxTextLine && fault != refusedNot:
			t.Fatalf("clean message %q refused (%d)", msg, fault)
		}
		if r.Buffered() != 0 {
			t.Fatalf("data end found early in %q: %d octets left", wire, r.Buffered())
		}
	})
}

func hasBareLineEnd(b []byte) bool {
	for i, c := range b {
		if c == '\r' && (i+1 >= len(b) || b[i+1] != '\n') || c == '\n' && (i == 0 || b[i-1] != '\r') {
			return true
		}
	}
	return false
}

func maxLine(b []byte) int {
	longest := 0
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		longest = max(longest, len(line))
	}
	return longest
}

// FuzzSession feeds arbitrary input to a live session, seeded with the
// protocol verbs. Whatever comes in, the server answers with well-formed
// replies and keeps serving other sessions.
func FuzzSession(f *testing.F) {
	for _, seed := range []string{
		"EHLO a.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nx\r\n.\r\n",
		"HELO a\r\nRSET\r\nNOOP\r\nVRFY x\r\nHELP\r\nEXPN y\r\n",
		"EHLO a\r\nAUTH PLAIN\r\n*\r\nAUTH LOGIN\r\n=\r\n",
		"EHLO a\r\nSTARTTLS\r\n",
		"mail from:<>\r\nrcpt to:<postmaster>\r\ndata\r\n",
		"\x00\xff\r\n\n\r",
	} {
		f.Add([]byte(seed))
	}
	_, _, addr := startServer(f, Options{InsecureAuth: true, IdleTimeout: time.Second})
	f.Fuzz(func(t *testing.T, input []byte) {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		go func() {
			conn.Write(input)
			conn.Write([]byte("\r\n.\r\nQUIT\r\n"))
		}()
		r := bufio.NewReader(conn)
		for {
			_, err := smtpreply.ReadReply(r, true, nil)
			if err == io.EOF {
				break
			}
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					break // waiting for more DATA or a SASL answer: fine
				}
				t.Fatalf("bad reply stream: %v", err)
			}
		}
		c := greeted(t, addr)
		c.cmd("NOOP", 250)
	})
}
