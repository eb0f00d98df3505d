package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// A crash-test message proves its own completeness: its header carries its
// sequence number and the length and SHA-256 of its body (which ends with
// an "END n" line, for people reading the files). A reader that finds the
// header but a shorter body or a different hash has seen a half-written (or
// damaged) message. The server's Received header, a queue
// file's envelope line and POP3 byte-stuffing come before or around the
// message and do not disturb the check.

// Header fields of a crash-test message.
const (
	crashSeqField  = "X-Crash-Seq"
	crashBodyField = "X-Crash-Body"
)

// Sizes of the rare big messages. bigCrashBody is over a quarter of the
// server's 8 MiB write-ahead journal, so the message takes the direct path
// (temporary file, fsync, rename) instead of the journal. hugeCrashBody
// takes long enough to write that the test can catch the file half-written
// and kill the server right then.
const (
	bigCrashBody  = 2200 << 10
	hugeCrashBody = 12 << 20
)

// newCrashMessage builds message seq. Its body is at least minBody octets;
// 0 means a random length from a few hundred octets to a few KiB. Some
// lines start with a dot (dot stuffing on SMTP and POP3).
func newCrashMessage(seq int, rcpts []string, minBody int, rng *rand.Rand) []byte {
	var body bytes.Buffer
	lines := 1 + rng.IntN(120)
	for i := 0; i < lines || body.Len() < minBody; i++ {
		if i%7 == 3 {
			body.WriteString(".")
		}
		fmt.Fprintf(&body, "message %d line %d %s\r\n", seq, i, strings.Repeat("x", rng.IntN(40)))
	}
	fmt.Fprintf(&body, "END %d\r\n", seq)
	sum := sha256.Sum256(body.Bytes())
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: alice@example.org\r\nTo: %s\r\nSubject: crash test %d\r\n", strings.Join(rcpts, ", "), seq)
	fmt.Fprintf(&msg, "%s: %d\r\n%s: %d %s\r\n\r\n", crashSeqField, seq, crashBodyField, body.Len(), hex.EncodeToString(sum[:]))
	msg.Write(body.Bytes())
	return msg.Bytes()
}

var (
	crashSeqRE  = regexp.MustCompile(`(?m)^` + crashSeqField + `: (\d+)\r$`)
	crashBodyRE = regexp.MustCompile(`(?m)^` + crashBodyField + `: (\d+) ([0-9a-f]{64})\r$`)
)

// checkCrashMessage returns the sequence number of a complete crash-test
// message, or an error saying how raw falls short. raw may have lines
// before the message's own header (Received, a queue envelope line). Only
// crash-test messages are sent to the mailboxes and the queue the tests
// look at, so anything else, such as a message cut off before its
// sequence header, is an error too.
func checkCrashMessage(raw []byte) (int, error) {
	header, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if ok {
		header = raw[:len(header)+2] // the last field's CRLF
	}
	seqMatch := crashSeqRE.FindSubmatch(header)
	if seqMatch == nil {
		return 0, fmt.Errorf("no %s header in %d octets: not a (whole) crash-test message", crashSeqField, len(raw))
	}
	seq, err := strconv.Atoi(string(seqMatch[1]))
	if err != nil {
		return 0, fmt.Errorf("bad %s: %v", crashSeqField, err)
	}
	bodyMatch := crashBodyRE.FindSubmatch(header)
	if !ok || bodyMatch == nil {
		return seq, fmt.Errorf("message %d: header cut short (%d octets in all)", seq, len(raw))
	}
	wantLen, _ := strconv.Atoi(string(bodyMatch[1]))
	if len(body) != wantLen {
		return seq, fmt.Errorf("message %d: body of %d octets, header says %d", seq, len(body), wantLen)
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != string(bodyMatch[2]) {
		return seq, fmt.Errorf("message %d: body hash differs from the header's", seq)
	}
	return seq, nil
}

// TestCrashMessageCheck shows that the completeness check the crash tests
// rely on tells a whole message from every shorter prefix and from a
// damaged one; lines before the message (Received) do not disturb it.
func TestCrashMessageCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	msg := newCrashMessage(42, []string{"bob@example.org"}, 0, rng)
	received := append([]byte("Received: from crash.example by mx; Thu, 1 Jan 2026 00:00:00 +0000\r\n"), msg...)
	queued := append([]byte(`{"from":"alice@example.org","rcpts":["carol@example.net"]}`+"\n"), msg...)
	for _, whole := range [][]byte{msg, received} {
		if seq, err := checkCrashMessage(whole); err != nil || seq != 42 {
			t.Fatalf("whole message: %d, %v", seq, err)
		}
		for n := range len(whole) {
			if _, err := checkCrashMessage(whole[:n]); err == nil {
				t.Fatalf("the first %d of %d octets pass as whole", n, len(whole))
			}
		}
	}
	// Neither does a queue file's envelope line.
	if _, err := checkCrashMessage(queued); err != nil {
		t.Errorf("message after a JSON line: %v", err)
	}
	damaged := bytes.Clone(msg)
	damaged[len(damaged)-10] ^= 1
	if _, err := checkCrashMessage(damaged); err == nil {
		t.Error("a flipped bit passes")
	}
	big := newCrashMessage(7, nil, bigCrashBody, rng)
	if len(big) < bigCrashBody {
		t.Errorf("big message of %d octets, want at least %d", len(big), bigCrashBody)
	}
	if _, err := checkCrashMessage(big); err != nil {
		t.Errorf("big message: %v", err)
	}
}
