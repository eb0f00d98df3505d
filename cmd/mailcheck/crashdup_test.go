package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/smtptest"
)

// TestCrashAfterRemoteAcceptDeliversAgain crashes the sending server between
// the remote's 250 to the final dot and the removal of the queue entry, the
// window RFC 1047 describes: the remote has taken the message, the sender
// does not know it yet. After a restart the sender must deliver the message
// again (a duplicate) rather than drop it: remote delivery is at-least-once.
//
// The window is hit deterministically, without a hook in the server: when
// the fake remote has the whole message, it SIGSTOPs the sender and waits
// until every thread has stopped, then sends its 250, and once the 250 is
// written the test SIGKILLs the stopped sender. A stopped process cannot
// read the 250, let alone remove the entry.
func TestCrashAfterRemoteAcceptDeliversAgain(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SIGSTOP/SIGKILL test needs Linux")
	}
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}

	var senderPID atomic.Int64
	clientAcked := make(chan struct{})   // the test's SMTP client got its 250
	acceptWritten := make(chan struct{}) // the remote wrote its 250 to the first delivery
	var mu sync.Mutex
	var received [][]byte
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	remote := smtptest.Start(t, smtptest.Config{
		Extensions: []string{"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"},
		Listener: &writeWatchListener{Listener: ln, written: func(b []byte) {
			if bytes.HasPrefix(b, []byte("250 2.0.0 queued")) {
				once.Do(func() { close(acceptWritten) })
			}
		}},
		Reply: func(verb, arg string) string {
			switch verb {
			case "GREETING":
				// Relay only once the client has its 250, so freezing
				// the sender cannot hold back the client's reply.
				select {
				case <-clientAcked:
				case <-time.After(20 * time.Second):
				}
			case ".":
				mu.Lock()
				received = append(received, []byte(arg))
				first := len(received) == 1
				mu.Unlock()
				if first {
					if err := stopProcess(int(senderPID.Load())); err != nil {
						t.Error(err)
					}
				}
			}
			return "" // the default: 250 2.0.0 queued
		},
	})

	data := t.TempDir()
	args := []string{"--data", data, "--smtp", "127.0.0.1:0", "--imap", "", "--pop3", "",
		"--domain", crashLocalDomain, "--user", "alice:pw", "--insecure-auth", "--no-tls", "--auth-failure-delay", "0",
		"--route", crashRemoteDomain + "=" + remote.Addr(), "--retry-base", "100ms", "--retry-max", "200ms"}
	proc := launchServe(t, bin, args...)
	senderPID.Store(int64(proc.cmd.Process.Pid))
	addrs := proc.listening(t)

	ledger := newCrashLedger()
	if err := sendCrashMessages(addrs["SMTP"], []string{"carol@example.net"}, 1, -1, 0, rand.New(rand.NewPCG(1, 1)), ledger, nil); err != nil || !ledger.acked[1] {
		t.Fatalf("the message was not acknowledged: %v", err)
	}
	close(clientAcked)
	select {
	case <-acceptWritten:
	case <-time.After(20 * time.Second):
		t.Fatal("the queue did not relay the message within 20s")
	}
	proc.kill()

	census, err := takeCrashCensus(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if census.queued[1] != 1 || len(census.damaged) > 0 {
		t.Fatalf("after the crash the queue holds %d copies of the message (damaged: %v); want the entry still there, 1", census.queued[1], census.damaged)
	}

	proc = launchServe(t, bin, args...)
	proc.listening(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(received)
		mu.Unlock()
		queued, err := queueLen(data)
		if err != nil {
			t.Fatal(err)
		}
		if n >= 2 && queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20s after the restart the remote has %d deliveries and %d entries are queued; want the message delivered again (at-least-once) and the queue empty", n, queued)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := proc.terminate(); err != nil {
		t.Errorf("serve after SIGTERM: %v (want exit 0)", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(received) != 2 {
		t.Errorf("the remote got the message %d times, want 2: once before the crash, once after", len(received))
	}
	for i, msg := range received {
		if seq, err := checkCrashMessage(msg); err != nil || seq != 1 {
			t.Errorf("delivery %d: message %d, %v", i+1, seq, err)
		}
	}
	if len(received) == 2 && !bytes.Equal(received[0], received[1]) {
		t.Error("the second delivery differs from the first")
	}
	t.Logf("crash between the remote's 250 and the entry's removal: delivered %d times, lost 0, %d duplicate", len(received), len(received)-1)
}

// stopProcess SIGSTOPs pid and waits until every one of its threads has
// stopped: a signal is delivered asynchronously, and the test needs the
// sender frozen before it sends the 250.
func stopProcess(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		stopped, err := allThreadsStopped(pid)
		if err != nil || stopped {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d not stopped 10s after SIGSTOP", pid)
		}
		time.Sleep(time.Millisecond)
	}
}

// allThreadsStopped reports whether each thread of pid is in state T
// (stopped by a signal), per /proc/PID/task/TID/stat (proc(5): the state
// follows the parenthesised command name).
func allThreadsStopped(pid int) (bool, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return false, err
	}
	for _, task := range tasks {
		stat, err := os.ReadFile(filepath.Join(fmt.Sprintf("/proc/%d/task", pid), task.Name(), "stat"))
		if err != nil {
			return false, err
		}
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 || i+2 >= len(stat) {
			return false, fmt.Errorf("unexpected %s", stat)
		}
		if stat[i+2] != 'T' {
			return false, nil
		}
	}
	return true, nil
}

// writeWatchListener calls written with every buffer a connection has
// written successfully, so a test knows a reply has left the server.
type writeWatchListener struct {
	net.Listener
	written func([]byte)
}

func (l *writeWatchListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &writeWatchConn{Conn: conn, written: l.written}, nil
}

type writeWatchConn struct {
	net.Conn
	written func([]byte)
}

func (c *writeWatchConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err == nil {
		c.written(b[:n])
	}
	return n, err
}
