package conformance

import (
	"context"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

// Slow and busy servers are waited for and tried again, never called
// broken: these tests put a proxy in front of the reference server that
// slows down under load, or turns connections away for a while, and
// expect the verdicts the plain reference server gets, with no error.
// Timings are the servers' behaviour here, never an assertion.

// frontProxy relays TCP connections to upstream. turnAway, when set, may
// answer the n-th connection (from 1) itself instead (it reports whether
// it did); delay, when set, is waited before each chunk from upstream is
// passed on, given how many connections are open.
type frontProxy struct {
	upstream string
	turnAway func(n int, client net.Conn) bool
	delay    func(open int) time.Duration
	// closedFor, when set, stops listening for that long after the first
	// connection: connections in between are refused.
	closedFor time.Duration
	accepted  atomic.Int32
	open      atomic.Int32
	turned    atomic.Int32
}

// start listens on 127.0.0.1:0 and returns the address; the proxy and its
// connections end with the test.
func (p *frontProxy) start(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	track := func(c net.Conn, on bool) {
		mu.Lock()
		defer mu.Unlock()
		if on {
			conns[c] = true
		} else {
			delete(conns, c)
		}
	}
	t.Cleanup(func() {
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	var lmu sync.Mutex // guards l, which closedFor replaces, and stopped
	stopped := false
	reopen := p.closedFor > 0
	t.Cleanup(func() {
		lmu.Lock()
		stopped = true
		l.Close()
		lmu.Unlock()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			lmu.Lock()
			current := l
			lmu.Unlock()
			c, err := current.Accept()
			if err != nil && reopen {
				// Closed on purpose after the first connection: listen
				// again on the same port, once.
				reopen = false
				time.Sleep(p.closedFor)
				lmu.Lock()
				if !stopped {
					l, err = net.Listen("tcp", current.Addr().String())
				}
				lmu.Unlock()
				if err != nil || stopped {
					return
				}
				continue
			}
			if err != nil {
				return
			}
			n := int(p.accepted.Add(1))
			if n == 1 && p.closedFor > 0 {
				current.Close()
			}
			track(c, true)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer track(c, false)
				defer c.Close()
				if p.turnAway != nil && p.turnAway(n, c) {
					p.turned.Add(1)
					return
				}
				p.relay(c, track)
			}()
		}
	}()
	return l.Addr().String()
}

func (p *frontProxy) relay(client net.Conn, track func(net.Conn, bool)) {
	p.open.Add(1)
	defer p.open.Add(-1)
	server, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		return
	}
	track(server, true)
	defer track(server, false)
	defer server.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(server, client)
		server.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			if p.delay != nil {
				time.Sleep(p.delay(int(p.open.Load())))
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	client.Close()
	<-done
}

// adaptiveChecks are SMTP checks of one short session each, none of which
// waits on purpose for silence or a close.
var adaptiveChecks = []string{
	"smtp.greeting.code", "smtp.greeting.domain", "smtp.ehlo.accepted", "smtp.helo.accepted",
	"smtp.noop.ok", "smtp.rset.ok", "smtp.vrfy.implemented", "smtp.command.unknown",
	"smtp.mail.null-sender", "smtp.sequence.rcpt-before-mail",
}

// startSMTPReference starts the embedded reference server and returns its
// SMTP address and run options as RunEmbedded gives them, for
// adaptiveChecks at 8 at once.
func startSMTPReference(t *testing.T) (string, Options) {
	t.Helper()
	srv, trust, err := StartEmbedded(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		os.RemoveAll(srv.DataDir())
	})
	return srv.SMTPAddr(), Options{
		Rcpt: embeddedUser + "@" + EmbeddedDomain, User: embeddedUser, Password: embeddedPassword,
		TLS: trust, Only: adaptiveChecks, Parallel: 8,
	}
}

// runSMTPAt runs opts against an SMTP server at addr.
func runSMTPAt(t *testing.T, addr string, opts Options) *Report {
	t.Helper()
	target, err := engine.ParseTarget("smtp://"+addr, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	report, err := RunTargets(ctx, []Target{target}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return report
}

// sameVerdicts checks that got has want's verdict for every check, and no
// error.
func sameVerdicts(t *testing.T, want, got *Report) {
	t.Helper()
	if len(got.Checks) != len(want.Checks) || len(want.Checks) == 0 {
		t.Fatalf("%d results, want %d", len(got.Checks), len(want.Checks))
	}
	for i, r := range got.Checks {
		if r.Status == Error || r.Status != want.Checks[i].Status {
			t.Errorf("%s: %s (%s), want %s as against the plain server\n%s", r.ID, r.Status, r.Message, want.Checks[i].Status, transcriptOf(r))
		}
	}
}

// TestSlowServerIsWaitedFor: a server that greets and answers in 1 to 6
// seconds, slower the more connections it has open (0.75 s each), gets
// the verdicts of the plain server, with the slow waits as evidence in
// the messages. With a 5 s read timeout and 8 checks at once, its
// greetings came too late and the checks ended as error.
func TestSlowServerIsWaitedFor(t *testing.T) {
	addr, opts := startSMTPReference(t)
	plain := runSMTPAt(t, addr, opts)
	slow := &frontProxy{upstream: addr, delay: func(open int) time.Duration {
		return min(time.Duration(open)*750*time.Millisecond, 6*time.Second)
	}}
	report := runSMTPAt(t, slow.start(t), opts)
	sameVerdicts(t, plain, report)
	evidence := 0
	for _, r := range report.Checks {
		if regexp.MustCompile(`(greeting|reply to [A-Z]+) took \d+\.\d s`).MatchString(r.Message) {
			evidence++
		}
	}
	if evidence == 0 {
		t.Errorf("no check's message says which wait was slow")
	}
	t.Logf("%d checks, %d with slow waits in their message", len(report.Checks), evidence)
}

// TestBusyServerIsTriedAgain: a server that resets the first connection
// (the run's confirmation), lets the next through, then turns five away
// (a 421 greeting, or a reset before the greeting) gets the verdicts of
// the plain server: the confirmation and the checks that met the busy
// server ran again.
func TestBusyServerIsTriedAgain(t *testing.T) {
	addr, opts := startSMTPReference(t)
	plain := runSMTPAt(t, addr, opts)
	busy := &frontProxy{upstream: addr, turnAway: func(n int, c net.Conn) bool {
		switch {
		case n == 1 || n >= 3 && n <= 7 && n%2 == 1:
			c.(*net.TCPConn).SetLinger(0) // a reset, not a close
			return true
		case n >= 3 && n <= 7:
			c.Write([]byte("421 4.3.2 mx.example.org busy, try again later\r\n"))
			return true
		}
		return false
	}}
	report := runSMTPAt(t, busy.start(t), opts)
	sameVerdicts(t, plain, report)
	if got := busy.turned.Load(); got != 6 {
		t.Errorf("the proxy turned %d connections away, want 6", got)
	}
	retried := 0
	for _, r := range report.Checks {
		if strings.Contains(r.Message, "the server was busy before") {
			retried++
		}
	}
	if retried == 0 {
		t.Errorf("no check says it ran again after meeting the busy server")
	}
	t.Logf("%d checks, %d ran again", len(report.Checks), retried)
}

// TestRefusingServerIsTriedAgain: a server that stops listening for a
// second after the run's confirmation refuses the checks' first
// connections; they run again and get the plain server's verdicts.
func TestRefusingServerIsTriedAgain(t *testing.T) {
	addr, opts := startSMTPReference(t)
	plain := runSMTPAt(t, addr, opts)
	refusing := &frontProxy{upstream: addr, closedFor: time.Second}
	report := runSMTPAt(t, refusing.start(t), opts)
	sameVerdicts(t, plain, report)
	retried := 0
	for _, r := range report.Checks {
		if strings.Contains(r.Message, "the server was busy before") {
			retried++
		}
	}
	t.Logf("%d checks, %d ran again after a refused connection", len(report.Checks), retried)
}

// TestLockedAppendIsTriedAgain: an IMAP server that answers five of the
// suite's APPENDs with NO "database is locked" (an SQLite-backed server
// under load) gets the verdicts of the same server without them, with no
// error: the checks that met the refusal ran again.
func TestLockedAppendIsTriedAgain(t *testing.T) {
	// Both behind the proxy, which hides STARTTLS: the same verdicts.
	target, opts := startIMAP(t, imapProof{wire: &wireFault{}})
	opts.Only = []string{"imap.*"}
	plain := runIMAP(t, target, opts)

	appendLine := regexp.MustCompile(`^(\S+) APPEND `)
	var appends, locked atomic.Int32
	target, opts = startIMAP(t, imapProof{wire: &wireFault{Client: func(l string) (bool, string) {
		m := appendLine.FindStringSubmatch(l)
		if m == nil {
			return true, ""
		}
		if n := appends.Add(1); n <= 14 && n%3 == 2 {
			locked.Add(1)
			return false, m[1] + " NO database is locked\r\n"
		}
		return true, ""
	}}})
	opts.Only = []string{"imap.*"}
	report := runIMAP(t, target, opts)
	sameVerdicts(t, plain, report)
	if locked.Load() == 0 {
		t.Errorf("no APPEND was answered \"database is locked\": the test proves nothing")
	}
	t.Logf("%d checks; %d of %d APPENDs answered \"database is locked\"", len(report.Checks), locked.Load(), appends.Load())
}

// TestTemporaryRefusalOfASetupStepIsTriedAgain: a server that answers the
// first three MAIL commands with 451 (greylisting, a full queue: RFC 5321
// §4.2.1, the command may succeed later) gets the plain server's
// verdicts: a 4yz to a step that is not the check's subject makes the
// check run again, not skip (a refusal for good) or fail.
func TestTemporaryRefusalOfASetupStepIsTriedAgain(t *testing.T) {
	addr, opts := startSMTPReference(t)
	opts.Only = []string{"smtp.sequence.*", "smtp.limit.recipients-100"}
	plain := runSMTPAt(t, addr, opts)
	var refused atomic.Int32
	proxy := startProxy(t, addr, &wireFault{Client: func(line string) (bool, string) {
		if strings.HasPrefix(strings.ToUpper(line), "MAIL FROM:") && refused.Add(1) <= 3 {
			return false, "451 4.3.0 try again later\r\n"
		}
		return true, ""
	}})
	report := runSMTPAt(t, proxy, opts)
	sameVerdicts(t, plain, report)
	if refused.Load() < 3 {
		t.Errorf("only %d MAIL commands went through the proxy", refused.Load())
	}
}
