package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
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

	"github.com/emersion/go-imap/v2"

	"github.com/mailcheck/mailcheck/internal/smtpwire"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

var (
	crashSeed   = flag.Uint64("crash.seed", 0, "seed of TestCrashRounds' kill moments and messages (0: from the clock; the test logs the one it used)")
	crashRounds = flag.Int("crash.rounds", 20, "SIGKILL rounds of TestCrashRounds")
)

// buildOnce compiles mailcheck once per test run.
var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "mailcheck-bin")
	if err != nil {
		return "", err
	}
	bin := dir + "/mailcheck"
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// serveProc is a `mailcheck serve` process.
type serveProc struct {
	cmd    *exec.Cmd
	line   chan string   // serve's first line of output: what it listens on
	exited chan struct{} // closed once the process is gone
	err    error         // Wait's result, set before exited closes
}

// launchServe starts `mailcheck serve` with args; it does not wait for it
// to listen. The process is killed at cleanup if it still runs.
func launchServe(t *testing.T, bin string, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{line: make(chan string, 1), exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--log-level", "error"}, args...)...)
	p.cmd.Stdout = &firstLineWriter{line: p.line}
	p.cmd.Stderr = os.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.kill)
	return p
}

var listenRE = regexp.MustCompile(`\b(SMTP|IMAPS?|POP3S?) on ([^\s,]+)`)

// listening waits for serve's first line and returns the address of each
// service it names ("SMTP", "IMAP", "POP3", …).
func (p *serveProc) listening(t *testing.T) map[string]string {
	t.Helper()
	select {
	case line := <-p.line:
		addrs := make(map[string]string)
		for _, m := range listenRE.FindAllStringSubmatch(line, -1) {
			addrs[m[1]] = m[2]
		}
		if addrs["SMTP"] == "" {
			t.Fatalf("serve printed %q", line)
		}
		return addrs
	case <-p.exited:
		t.Fatalf("serve exited before listening: %v", p.err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start within 20s")
	}
	return nil
}

// kill SIGKILLs the process and waits for it to be gone.
func (p *serveProc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		// SIGKILL cannot be ignored; only a process stuck in the kernel
		// gets here, and there is nothing more to do about it.
	}
}

// terminate sends SIGTERM and returns serve's exit status; a process still
// running after 30s is killed.
func (p *serveProc) terminate() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.err
	case <-time.After(30 * time.Second):
		p.kill()
		return fmt.Errorf("no exit within 30s of SIGTERM")
	}
}

// firstLineWriter passes the first line written to it on to line and
// discards the rest, so the child never blocks on a full pipe.
type firstLineWriter struct {
	mu   sync.Mutex
	buf  []byte
	line chan<- string
	sent bool
}

func (w *firstLineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.sent {
		w.buf = append(w.buf, b...)
		if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
			w.line <- string(w.buf[:i])
			w.sent, w.buf = true, nil
		}
	}
	return len(b), nil
}

// crashLedger is the clients' side of the crash test: every message whose
// DATA was started, with its recipients, and those that got 250.
type crashLedger struct {
	mu    sync.Mutex
	last  int
	rcpts map[int][]string
	acked map[int]bool
	big   map[int]bool // messages big enough to bypass the journal
}

func newCrashLedger() *crashLedger {
	return &crashLedger{rcpts: make(map[int][]string), acked: make(map[int]bool), big: make(map[int]bool)}
}

func (l *crashLedger) begin(rcpts []string, big bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last++
	l.rcpts[l.last] = rcpts
	l.big[l.last] = big
	return l.last
}

func (l *crashLedger) ack(seq int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acked[seq] = true
}

// The crash test's domains and accounts: bob and dave have mailboxes, alice
// sends (and authenticates to relay), example.net is the remote.
const (
	crashLocalDomain  = "example.org"
	crashRemoteDomain = "example.net"
)

var crashMailboxes = []string{"bob", "dave"}

// crashSenderRcpts are the recipients of the concurrent sessions, one
// session each: local mailboxes, the queue, and both at once. Sessions with
// a remote recipient authenticate (the server never relays otherwise).
var crashSenderRcpts = [][]string{
	{"bob@example.org"},
	{"dave@example.org"},
	{"bob@example.org", "dave@example.org"},
	{"carol@example.net"},
	{"bob@example.org", "carol@example.net"},
	{"carol@example.net", "erin@example.net"},
}

// crashBigSender is the session that sends the one big message of a round:
// it goes to a mailbox and to the queue, both by the direct path.
const crashBigSender = 4

// sendCrashMessages sends up to limit messages to rcpts over one session,
// until stop or an error, recording each in ledger. Message number bigAt of
// the session (counting from 0) has a body of at least bigBody octets;
// bigAt -1 means none. The error is a connection error (expected once the
// server is killed) or an smtpRefusal (never expected).
func sendCrashMessages(addr string, rcpts []string, limit, bigAt, bigBody int, rng *rand.Rand, ledger *crashLedger, stop <-chan struct{}) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	// expect sends line (nil: none, for the greeting) and reads the reply,
	// which must have code want.
	expect := func(line []byte, want int) error {
		if line != nil {
			conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := conn.Write(line); err != nil {
				return err
			}
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		reply, err := smtpreply.ReadReply(r, true, nil)
		if err != nil {
			return err
		}
		if reply.Code != want {
			return &smtpRefusal{command: string(line[:min(len(line), 40)]), reply: reply.String()}
		}
		return nil
	}
	if err := expect(nil, 220); err != nil {
		return err
	}
	if err := expect([]byte("EHLO crash.example\r\n"), 250); err != nil {
		return err
	}
	if slices.ContainsFunc(rcpts, isCrashRemote) {
		// AUTH PLAIN alice/pw (RFC 4954).
		if err := expect([]byte("AUTH PLAIN AGFsaWNlAHB3\r\n"), 235); err != nil {
			return err
		}
	}
	for i := range limit {
		select {
		case <-stop:
			return nil
		default:
		}
		if err := expect([]byte("MAIL FROM:<alice@example.org>\r\n"), 250); err != nil {
			return err
		}
		for _, rcpt := range rcpts {
			if err := expect([]byte("RCPT TO:<"+rcpt+">\r\n"), 250); err != nil {
				return err
			}
		}
		if err := expect([]byte("DATA\r\n"), 354); err != nil {
			return err
		}
		minBody := 0
		if i == bigAt {
			minBody = bigBody
		}
		seq := ledger.begin(rcpts, minBody > 0)
		msg := newCrashMessage(seq, rcpts, minBody, rng)
		// Without a reply the outcome is unknown, as for any client: the
		// message may or may not be there, but never half.
		if err := expect(smtpwire.AppendDotStuffed(nil, msg), 250); err != nil {
			return err
		}
		ledger.ack(seq)
	}
	return nil
}

// smtpRefusal is an SMTP reply other than the one a step needs.
type smtpRefusal struct{ command, reply string }

func (r *smtpRefusal) Error() string { return fmt.Sprintf("%q: %s", r.command, r.reply) }

// isRefusal reports whether err is a server's answer (SMTP, POP3, IMAP)
// rather than a failed connection: a killed server gives none.
func isRefusal(err error) bool {
	var smtpErr *smtpRefusal
	var pop3Err *pop3Refusal
	var imapErr *imap.Error
	return errors.As(err, &smtpErr) || errors.As(err, &pop3Err) || errors.As(err, &imapErr)
}

// crashCounts sums up a verification.
type crashCounts struct {
	lost            int // acknowledged copies missing
	localDuplicates int // extra copies in a mailbox (never allowed)
	queueDuplicates int // extra queue entries of one message (never allowed)
	// remoteDuplicates are extra deliveries to the remote, counting a copy
	// still queued: allowed, as remote delivery is at-least-once.
	remoteDuplicates int
}

// verifyCrashState checks a census and the remote's counts against what
// the clients were told and what the readers saw:
//   - every acknowledged message is in each recipient's mailbox exactly
//     once, and for remote recipients queued (once) or delivered;
//   - no message is in a mailbox twice, queued twice or where it was not
//     sent;
//   - no file is half-written;
//   - every message a POP3 or IMAP reader saw is still there (what a
//     reader may see must already be durable).
func verifyCrashState(t *testing.T, when string, ledger *crashLedger, census crashCensus, remote map[int]int, tally *readerTally) crashCounts {
	t.Helper()
	var counts crashCounts
	problems := 0
	report := func(format string, args ...any) {
		problems++
		if problems <= 20 {
			t.Errorf(when+": "+format, args...)
		}
	}
	for _, d := range census.damaged {
		report("half-written or damaged file: %s", d)
	}
	ledger.mu.Lock()
	defer ledger.mu.Unlock()
	for user, seqs := range census.local {
		for seq, n := range seqs {
			rcpts, sent := ledger.rcpts[seq]
			if !sent || !slices.Contains(rcpts, user+"@"+crashLocalDomain) {
				report("message %d is in %s's mailbox but was not sent there (%v)", seq, user, rcpts)
			}
			if n > 1 {
				report("message %d is in %s's mailbox %d times", seq, user, n)
				counts.localDuplicates += n - 1
			}
		}
	}
	for seq, n := range census.queued {
		if n > 1 {
			report("message %d is queued %d times", seq, n)
			counts.queueDuplicates += n - 1
		}
	}
	for seq := range remoteOrQueued(census.queued, remote) {
		if !slices.ContainsFunc(ledger.rcpts[seq], isCrashRemote) {
			report("message %d went to the remote but had no remote recipient (%v)", seq, ledger.rcpts[seq])
		}
	}
	for seq, rcpts := range ledger.rcpts {
		copies := census.queued[seq] + remote[seq]
		if copies > 1 {
			counts.remoteDuplicates += copies - 1
		}
		if !ledger.acked[seq] {
			continue // may or may not be there, but never half
		}
		for _, rcpt := range rcpts {
			if isCrashRemote(rcpt) {
				continue
			}
			user := strings.TrimSuffix(rcpt, "@"+crashLocalDomain)
			if census.local[user][seq] == 0 {
				report("acknowledged message %d is not in %s's mailbox", seq, user)
				counts.lost++
			}
		}
		if slices.ContainsFunc(rcpts, isCrashRemote) && copies == 0 {
			report("acknowledged message %d is neither queued nor delivered to the remote", seq)
			counts.lost++
		}
	}
	tally.mu.Lock()
	defer tally.mu.Unlock()
	for _, d := range tally.damaged {
		report("%s", d)
	}
	for user, seqs := range tally.seen {
		for seq := range seqs {
			if census.local[user][seq] == 0 {
				report("message %d was shown to a reader of %s's mailbox, but is gone after the restart", seq, user)
			}
		}
	}
	if problems > 20 {
		t.Errorf("%s: %d problems in all", when, problems)
	}
	return counts
}

func isCrashRemote(rcpt string) bool { return strings.HasSuffix(rcpt, "@"+crashRemoteDomain) }

// awaitPartialFile watches the files process pid has open for writing
// until one is a huge message half-written: at least 1 MiB (only the huge
// message is written at that size in the round) but smaller than
// hugeCrashBody (so not yet whole). It looks at the open descriptors
// rather than at directories so that it finds the file wherever the
// server writes it; files open for reading (a reader fetching an older
// big message) and the preallocated journal are skipped.
func awaitPartialFile(pid int, limit time.Duration) (path string, size int64, ok bool) {
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			return "", 0, false // the process is gone
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !strings.HasPrefix(link, "/") || strings.HasSuffix(link, "/mailcheck-journal") {
				continue // closed meanwhile, a socket or pipe, the journal
			}
			info, err := os.Stat(filepath.Join(fdDir, fd.Name()))
			if err != nil || !info.Mode().IsRegular() || info.Size() < 1<<20 || info.Size() >= hugeCrashBody || !openForWriting(pid, fd.Name()) {
				continue
			}
			return link, info.Size(), true
		}
		time.Sleep(200 * time.Microsecond)
	}
	return "", 0, false
}

// openForWriting reports whether descriptor fd of pid was opened for
// writing: the access mode in the flags of /proc/PID/fdinfo/FD (proc(5)),
// octal, is O_WRONLY or O_RDWR.
func openForWriting(pid int, fd string) bool {
	info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(info), "\n") {
		if value, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, err := strconv.ParseUint(strings.TrimSpace(value), 8, 64)
			return err == nil && flags&uint64(syscall.O_ACCMODE) != syscall.O_RDONLY
		}
	}
	return false
}

// remoteOrQueued is the set of messages queued or delivered to the remote.
func remoteOrQueued(queued, remote map[int]int) map[int]bool {
	set := make(map[int]bool)
	for seq := range queued {
		set[seq] = true
	}
	for seq := range remote {
		set[seq] = true
	}
	return set
}

// TestCrashRounds runs the built server through rounds of load and SIGKILL
// on one data directory. In each round six SMTP sessions send uniquely
// numbered messages (to mailboxes, to the queue, to both; a big one that
// bypasses the journal now and then) while POP3 and IMAP readers fetch
// every message that appears; then the server is SIGKILLed at a random
// moment (seeded and logged), now and then while it is still starting up
// and replaying its journal or while a huge message is half-written. The
// remote is down in about half the rounds (queued mail stays queued) and up
// in the others (mail is relayed while the kill comes).
// After each restart the census must show every acknowledged message
// exactly once (mailbox, or queue/remote), nothing half-written, and
// everything a reader saw. At the end the remote comes up and the queue
// must drain, each queued message delivered exactly once.
func TestCrashRounds(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SIGKILL test needs Linux")
	}
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (go test ./cmd/mailcheck -run TestCrashRounds -args -crash.seed=%d repeats the kill moments)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	remote := startCrashRemote(t)
	data := t.TempDir()
	args := []string{"--data", data, "--smtp", "127.0.0.1:0", "--imap", "127.0.0.1:0", "--pop3", "127.0.0.1:0",
		"--domain", crashLocalDomain, "--user", "alice:pw", "--user", "bob:pw", "--user", "dave:pw",
		"--insecure-auth", "--no-tls", "--auth-failure-delay", "0",
		"--route", crashRemoteDomain + "=" + remote.srv.Addr(),
		// Short retries, so mail queued while the remote is down goes out
		// soon after it comes up.
		"--retry-base", "200ms", "--retry-max", "1s"}
	ledger := newCrashLedger()
	tally := newReaderTally()
	progress := make(map[string]*readerProgress)
	for _, user := range crashMailboxes {
		progress[user] = newReaderProgress()
	}
	var startupKills, tornKills, acceptingRounds int
	checkRestart := func(when, pop3Addr string) (crashCensus, crashCounts) {
		var census crashCensus
		var received map[int]int
		var damaged []string
		var err error
		// With the remote held, a queue entry can only leave after its
		// message is counted as received (the sender removes an entry
		// only after the remote's 250), so nothing is missed between
		// the two looks.
		remote.held(func(r map[int]int, d []string) {
			received, damaged = r, d
			census, err = takeCrashCensus(data, crashMailboxes)
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range damaged {
			t.Errorf("%s: the remote got a damaged message: %s", when, d)
		}
		if pop3Addr != "" {
			// The files are there; the server must also serve them all.
			for _, user := range crashMailboxes {
				files := 0
				for _, n := range census.local[user] {
					files += n
				}
				if shown, err := pop3MessageCount(pop3Addr, user); err != nil || shown != files {
					t.Errorf("%s: POP3 shows %s %d messages (%v); the mailbox holds %d", when, user, shown, err, files)
				}
			}
		}
		return census, verifyCrashState(t, when, ledger, census, received, tally)
	}

	rounds := *crashRounds
	for round := 1; round <= rounds; round++ {
		// The remote is up or down for the whole round, start-up
		// included: when up, the restarted queue relays its backlog
		// while the next kill comes.
		accepting := rng.IntN(2) == 0
		if accepting {
			acceptingRounds++
		}
		remote.setAccepting(accepting)
		proc := launchServe(t, bin, args...)
		// How this round's kill comes: during start-up, while a huge
		// message is half-written, or at a random moment.
		killKind := rng.IntN(10)
		if round > 1 && killKind < 2 {
			// Kill while it may still be replaying the journal and
			// recovering the queue: start-up must survive a crash too.
			delay := time.Duration(rng.Int64N(int64(60 * time.Millisecond)))
			time.Sleep(delay)
			proc.kill()
			startupKills++
			t.Logf("round %2d: SIGKILL %v after exec, during start-up", round, delay.Round(time.Millisecond))
			continue
		}
		addrs := proc.listening(t)
		if round > 1 {
			checkRestart(fmt.Sprintf("restart before round %d", round), addrs["POP3"])
			if t.Failed() {
				t.FailNow()
			}
		}
		ackedBefore := len(ledger.acked)
		receivedBefore := remote.total()
		stop := make(chan struct{})
		// killing is closed just before the SIGKILL. A client's session
		// may end with a connection error after that, never before; and
		// an answer refusing what a client asked is wrong at any time.
		killing := make(chan struct{})
		var failMu sync.Mutex
		var failures []string
		whileUp := func(who string, err error) {
			if err == nil {
				return
			}
			select {
			case <-killing:
				if !isRefusal(err) {
					return
				}
			default:
			}
			failMu.Lock()
			failures = append(failures, fmt.Sprintf("%s: %v", who, err))
			failMu.Unlock()
		}
		var wg sync.WaitGroup
		for i, rcpts := range crashSenderRcpts {
			bigAt, bigBody := -1, bigCrashBody
			if i == crashBigSender {
				bigAt = rng.IntN(8)
				if killKind == 2 {
					bigAt, bigBody = 0, hugeCrashBody
				}
			}
			senderRNG := rand.New(rand.NewPCG(seed, uint64(round*len(crashSenderRcpts)+i)))
			wg.Go(func() {
				whileUp(fmt.Sprintf("SMTP session to %v", rcpts), sendCrashMessages(addrs["SMTP"], rcpts, 100000, bigAt, bigBody, senderRNG, ledger, stop))
			})
		}
		for _, user := range crashMailboxes {
			wg.Go(func() { whileUp("POP3 reader of "+user, readPOP3(addrs["POP3"], user, progress[user], stop, tally)) })
			wg.Go(func() { whileUp("IMAP reader of "+user, readIMAP(addrs["IMAP"], user, progress[user], stop, tally)) })
		}
		delay := time.Duration(rng.Int64N(int64(800 * time.Millisecond)))
		moment := fmt.Sprintf("%v after listening", delay.Round(time.Millisecond))
		if killKind == 2 {
			moment = "with no huge message seen half-written within 5s"
			if path, size, ok := awaitPartialFile(proc.cmd.Process.Pid, 5*time.Second); ok {
				tornKills++
				moment = fmt.Sprintf("while %s was written (%d octets of more than %d)", filepath.Base(path), size, hugeCrashBody)
			}
		} else {
			time.Sleep(delay)
		}
		close(killing)
		proc.kill()
		close(stop)
		wg.Wait()
		for _, f := range failures {
			t.Errorf("round %d, while the server was up: %s", round, f)
		}
		ledger.mu.Lock()
		acked := len(ledger.acked) - ackedBefore
		ledger.mu.Unlock()
		state := "down"
		if accepting {
			state = fmt.Sprintf("up (%d relayed)", remote.total()-receivedBefore)
		}
		t.Logf("round %2d: SIGKILL %s, %d acknowledged, remote %s", round, moment, acked, state)
	}

	// The last restart: nothing lost, and the queue resumes once the remote
	// is up, delivering each queued message exactly once. The remote is
	// down until the census is taken, so the census is what the queue
	// holds when the remote comes up; and the killed server's sessions
	// have ended, so none hands in a message late.
	remote.setAccepting(false)
	if err := remote.awaitIdle(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	proc := launchServe(t, bin, args...)
	before, _ := checkRestart("restart after the last round", proc.listening(t)["POP3"])
	receivedBefore, _ := remote.counts()
	remote.setAccepting(true)
	drainStart := time.Now()
	deadline := drainStart.Add(60 * time.Second)
	for {
		n, err := queueLen(data)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d entries still queued 60s after the remote came up", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("remote up: %d queued messages delivered in %v", len(before.queued), time.Since(drainStart).Round(time.Millisecond))
	if err := proc.terminate(); err != nil {
		t.Errorf("serve after SIGTERM: %v (want exit 0)", err)
	}
	_, final := checkRestart("after the queue drained", "")
	receivedAfter, _ := remote.counts()
	for seq := range remoteOrQueued(before.queued, receivedAfter) {
		if got, want := receivedAfter[seq]-receivedBefore[seq], before.queued[seq]; got != want {
			t.Errorf("message %d: %d deliveries once the remote came up, want %d (it was queued %d times)", seq, got, want, want)
		}
	}

	ledger.mu.Lock()
	defer ledger.mu.Unlock()
	tally.mu.Lock()
	defer tally.mu.Unlock()
	var ackedLocal, ackedRemote, ackedBig int
	for seq := range ledger.acked {
		if ledger.big[seq] {
			ackedBig++
		}
		rcpts := ledger.rcpts[seq]
		if slices.ContainsFunc(rcpts, isCrashRemote) {
			ackedRemote++
		}
		if slices.ContainsFunc(rcpts, func(rcpt string) bool { return !isCrashRemote(rcpt) }) {
			ackedLocal++
		}
	}
	t.Logf("%d rounds (%d killed during start-up, %d while a huge message was half-written, remote up in %d); %d messages sent, %d acknowledged (%d to mailboxes, %d relayed, %d queued when the remote came up, %d big); lost %d; duplicates: %d in mailboxes, %d in the queue, %d at the remote (at-least-once); read whole: %d by POP3, %d by IMAP",
		rounds, startupKills, tornKills, acceptingRounds, len(ledger.rcpts), len(ledger.acked), ackedLocal, ackedRemote, len(before.queued), ackedBig,
		final.lost, final.localDuplicates, final.queueDuplicates, final.remoteDuplicates, tally.reads["POP3"], tally.reads["IMAP"])
	if len(ledger.acked) == 0 || tally.reads["POP3"] == 0 || tally.reads["IMAP"] == 0 {
		t.Error("the test did not exercise the server: no message acknowledged, or none read over POP3 or IMAP")
	}
}
