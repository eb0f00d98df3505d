package load

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMemory10kSessions holds 10,000 sessions connected to a sink in
// another process (so only the generator is measured, and each side has
// its own file-descriptor limit), sending slowly in open loop, and checks
// the generator's resident memory stays under 500 MB. It needs about
// 10,100 file descriptors per process, and runs only when
// MAILCHECK_TEST_10K=1.
func TestMemory10kSessions(t *testing.T) {
	if os.Getenv("MAILCHECK_TEST_10K") != "1" {
		t.Skip("set MAILCHECK_TEST_10K=1 to hold 10,000 sessions (about 10,100 file descriptors in each of two processes)")
	}
	const sessions = 10000
	const limitMB = 500
	if err := raiseFileLimit(sessions + 200); err != nil {
		t.Skip(err)
	}
	addr := startSinkProcess(t)

	// All sessions connect within the first few seconds (tickets go to the
	// sessions in turn), then each sends about one message every 4 s.
	const rate, dur = 2500, 8 * time.Second
	var mu sync.Mutex
	var peakRSS, peakHeap, peakSys uint64
	var peakFDs int
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			rss := statusKB("VmRSS") << 10
			fds := countFDs()
			mu.Lock()
			peakRSS, peakHeap, peakSys = max(peakRSS, rss), max(peakHeap, ms.HeapInuse), max(peakSys, ms.Sys)
			peakFDs = max(peakFDs, fds)
			mu.Unlock()
		}
	}()
	res, err := Run(context.Background(), Options{
		Target: targetOf(t, addr), Sessions: sessions, Rate: rate, Duration: dur,
		To: "load@example.test", StartTLS: "off", Size: SizeSpec{1024, 1024}, Timeout: 30 * time.Second,
	}, nil, nil)
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	hwm := statusKB("VmHWM") << 10
	mb := func(b uint64) float64 { return float64(b) / (1 << 20) }
	t.Logf("%d sessions: sent %d accepted %d failed %d; peak %d descriptors; RSS peak %.0f MB (high-water mark %.0f MB), Go heap in use %.0f MB, Go sys %.0f MB",
		sessions, res.Sent, res.Accepted, res.Failed, peakFDs, mb(peakRSS), mb(hwm), mb(peakHeap), mb(peakSys))
	if c := res.Phases[PhaseConnect]; c == nil || c.Count != sessions || res.Failed != 0 {
		t.Fatalf("not every session connected: %+v, errors %+v", c, res.Errors)
	}
	if peakFDs < sessions {
		t.Errorf("at most %d descriptors open: the sessions were not all connected at once", peakFDs)
	}
	if hwm > limitMB<<20 {
		t.Errorf("resident memory peaked at %.0f MB with %d sessions, over %d MB", mb(hwm), sessions, limitMB)
	}
}

// raiseFileLimit raises the soft RLIMIT_NOFILE to at least n (0: to the
// hard limit), or says why it cannot.
func raiseFileLimit(n uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if n == 0 {
		n = lim.Max
	}
	if lim.Cur >= n {
		return nil
	}
	if lim.Max < n {
		lim.Max = n // works as root only
	}
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("cannot raise the open file limit to %d: %v", n, err)
	}
	return nil
}

// startSinkProcess runs this test binary as a sink (see TestMain) and
// returns its address; the sink ends with the test.
func startSinkProcess(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), sinkProcessEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // the sink exits
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("sink process: %v", err)
	}
	return strings.TrimSpace(line)
}

// statusKB reads a "kB" field of /proc/self/status (0 when unknown).
func statusKB(field string) uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func countFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(entries)
}
