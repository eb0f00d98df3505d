package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/smtpwire"
)

// buildBinary compiles mailcheck once per test run.
var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "mailcheck-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "mailcheck")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// startServe runs `mailcheck serve` and returns the process and its SMTP
// address, read from its first line of output.
func startServe(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--smtp", "127.0.0.1:0", "--log-level", "error"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	select {
	case line := <-lines:
		m := regexp.MustCompile(`SMTP on ([^\s,]+)`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("serve printed %q", line)
		}
		return cmd, m[1]
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start within 20s")
	}
	return nil, ""
}

// TestCrashLosesNoAcknowledgedMessage SIGKILLs the server while sessions
// stream messages into mailboxes and the outgoing queue. After a restart
// every message that got 250 is on disk exactly once and no file holds a
// half-written message.
func TestCrashLosesNoAcknowledgedMessage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SIGKILL test needs Linux")
	}
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	args := []string{"--data", data, "--domain", "example.org", "--user", "bob:pw", "--user", "alice:pw",
		"--insecure-auth", "--no-tls", "--auth-failure-delay", "0",
		// Relay mail stays queued: the route points at a closed port and the
		// first retry is far away.
		"--route", "example.net=127.0.0.1:9", "--retry-base", "1h"}
	proc, addr := startServe(t, bin, append([]string{"--imap", "", "--pop3", ""}, args...)...)

	var mu sync.Mutex
	acked := map[int]bool{}
	var seq int
	var seqMu sync.Mutex
	nextSeq := func() int { seqMu.Lock(); defer seqMu.Unlock(); seq++; return seq }
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			streamMessages(addr, w%2 == 1, nextSeq, stop, func(n int) {
				mu.Lock()
				acked[n] = true
				mu.Unlock()
			})
		}(w)
	}
	// Kill mid-stream, once a fair number of messages are acknowledged.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	proc.Process.Signal(syscall.SIGKILL)
	proc.Wait()
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no message was acknowledged before the kill")
	}

	// Restart on the same data, then stop it cleanly: start-up recovery must
	// not lose or duplicate anything either.
	proc2, _ := startServe(t, bin, append([]string{"--imap", "", "--pop3", ""}, args...)...)
	proc2.Process.Signal(syscall.SIGTERM)
	if err := proc2.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v (want exit 0)", err)
	}

	found := map[int]int{}
	seqRE := regexp.MustCompile(`(?m)^X-Seq: (\d+)\r$`)
	filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if rel, _ := filepath.Rel(data, path); slices.Contains(strings.Split(rel, string(filepath.Separator)), "tmp") || rel == "mailcheck-journal" {
			return nil // temporary files and the write-ahead journal
		}
		content, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		m := seqRE.FindSubmatch(content)
		if m == nil {
			return nil // uid lists, queue state
		}
		n, _ := strconv.Atoi(string(m[1]))
		found[n]++
		if !strings.HasSuffix(string(content), fmt.Sprintf("END %d\r\n", n)) {
			t.Errorf("%s holds a half-written message", path)
		}
		return nil
	})
	for n := range acked {
		if found[n] != 1 {
			t.Errorf("acknowledged message %d found %d times", n, found[n])
		}
	}
	for n, c := range found {
		if c > 1 {
			t.Errorf("message %d stored %d times", n, c)
		}
	}
	t.Logf("%d messages acknowledged before SIGKILL, %d on disk", len(acked), len(found))
}

// streamMessages sends messages over one persistent session until stop or a
// connection error, calling ack for each 250. relay sends to a remote domain
// (through the queue) after AUTH; otherwise to a local mailbox.
func streamMessages(addr string, relay bool, next func() int, stop chan struct{}, ack func(int)) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	cmd := func(line string, code int) bool {
		if line != "" {
			if _, err := conn.Write([]byte(line)); err != nil {
				return false
			}
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		reply, err := smtpwire.ReadReply(r, true, nil)
		return err == nil && reply.Code == code
	}
	if !cmd("", 220) || !cmd("EHLO crash.example\r\n", 250) {
		return
	}
	rcpt := "bob@example.org"
	if relay {
		rcpt = "carol@example.net"
		if !cmd("AUTH PLAIN AGFsaWNlAHB3\r\n", 235) {
			return
		}
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		n := next()
		body := fmt.Sprintf("Subject: crash test\r\nX-Seq: %d\r\n\r\n%sEND %d\r\n", n, strings.Repeat("filler line\r\n", 40), n)
		if !cmd("MAIL FROM:<alice@example.org>\r\n", 250) || !cmd("RCPT TO:<"+rcpt+">\r\n", 250) || !cmd("DATA\r\n", 354) {
			return
		}
		if !cmd(string(smtpwire.AppendDotStuffed(nil, []byte(body))), 250) {
			return
		}
		ack(n)
	}
}
