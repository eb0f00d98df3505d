package pop3server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzSession feeds arbitrary input to a live session, seeded with the
// POP3 verbs. Whatever comes in, every line the server sends ends with
// CRLF, the first is the greeting, no message is deleted unless QUIT ended
// a TRANSACTION, and the server keeps serving other sessions.
func FuzzSession(f *testing.F) {
	for _, seed := range []string{
		"CAPA\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nLIST 1\r\nUIDL\r\nUIDL 2\r\nRETR 2\r\nTOP 2 1\r\nDELE 1\r\nRSET\r\nNOOP\r\nQUIT\r\n",
		"USER alice\r\nPASS secret\r\nDELE 1\r\nDELE 1\r\nRETR 1\r\nTOP 1 0\r\n",
		"user ALICE\r\npass secret\r\ntop 4 99999999999999999999999\r\nlist 0\r\nuidl -1\r\n",
		"PASS secret\r\nUSER\r\nUSER a b\r\nAPOP alice 0123456789abcdef\r\nAUTH PLAIN\r\n",
		"STLS\r\nUSER alice\r\n",
		"USER bob\r\nPASS hunter2\r\nSTAT\r\nRETR 1\r\n",
		"NOOP " + strings.Repeat("x", 300) + "\r\n",
		"\x00\xff\r\n\n\r. \r\n.\r\n",
	} {
		f.Add([]byte(seed))
	}
	_, be, addr := startServer(f, Options{IdleTimeout: time.Second})
	f.Fuzz(func(t *testing.T, input []byte) {
		before := len(be.deleteCalls())
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		go func() {
			conn.Write(input)
			// RSET so that a fuzzed session never changes the maildrop.
			conn.Write([]byte("\r\nRSET\r\nQUIT\r\n"))
		}()
		r := bufio.NewReader(conn)
		first := true
		for {
			line, err := r.ReadString('\n')
			if err == io.EOF && line == "" {
				break
			}
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					break
				}
				if err == io.EOF {
					t.Fatalf("partial line %q before the end", line)
				}
				break // reset by the server after a failed TLS handshake
			}
			if !strings.HasSuffix(line, "\r\n") {
				t.Fatalf("line %q does not end with CRLF", line)
			}
			if first && !strings.HasPrefix(line, "+OK ") {
				t.Fatalf("greeting %q", line)
			}
			first = false
		}
		if n := len(be.deleteCalls()); n != before && bytes.Contains(bytes.ToUpper(input), []byte("DELE")) && !bytes.Contains(bytes.ToUpper(input), []byte("QUIT")) {
			t.Fatalf("Delete called without QUIT")
		}
		c := greeted(t, addr)
		c.multi("CAPA")
	})
}
