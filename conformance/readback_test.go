package conformance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/internal/faultsmtp"
	"github.com/mailcheck/mailcheck/reference"
)

// embedded starts the reference server (with configure, when not nil) and
// returns its targets and the options RunEmbedded would give a run, the
// server staying up for the test's length.
func embedded(t *testing.T, configure func(*reference.Config)) (smtp, pop3, imap Target, opts Options) {
	t.Helper()
	srv, trust, err := StartEmbedded(configure)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		os.RemoveAll(srv.DataDir())
	})
	login := embeddedUser + ":" + embeddedPassword + "@"
	smtp, _ = engine.ParseTarget("smtp://"+srv.SMTPAddr(), "")
	pop3, _ = engine.ParseTarget("pop3://"+login+srv.Addr("pop3"), "")
	imap, _ = engine.ParseTarget("imap://"+login+srv.Addr("imap"), "")
	opts = Options{
		Rcpt: embeddedUser + "@" + EmbeddedDomain, User: embeddedUser, Password: embeddedPassword,
		Readback: &pop3, Seed: &smtp, TLS: trust,
	}
	return smtp, pop3, imap, opts
}

// retrRewriter is a POP3 proxy fault: rewrite gets the lines of each
// message RETR returns (byte-stuffed, CRLF included, without the "."
// line) and returns the lines to send instead.
func retrRewriter(rewrite func(lines []string) []string) *wireFault {
	var retr atomic.Bool
	var inBody bool
	var held []string
	return &wireFault{
		Client: func(line string) (bool, string) {
			if strings.HasPrefix(strings.ToUpper(line), "RETR ") {
				retr.Store(true)
			}
			return true, ""
		},
		Server: func(_ int, line string) []string {
			switch {
			case inBody && line == ".\r\n":
				inBody = false
				return append(rewrite(held), line)
			case inBody:
				held = append(held, line)
				return nil
			case retr.Load() && strings.HasPrefix(line, "+OK"):
				retr.Store(false)
				inBody, held = true, nil
			case retr.Load() && strings.HasPrefix(line, "-ERR"):
				retr.Store(false)
			}
			return []string{line}
		},
	}
}

// proxied returns target reached through a proxy with fault f.
func proxied(t *testing.T, target Target, f *wireFault) Target {
	t.Helper()
	addr := startProxy(t, target.Addr, f)
	p, err := engine.ParseTarget(target.Protocol+"://"+embeddedUser+":"+embeddedPassword+"@"+addr, "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runTargets(t *testing.T, targets []Target, opts Options) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	report, err := RunTargets(ctx, targets, opts)
	if err != nil {
		t.Fatal(err)
	}
	return report
}

func resultOf(t *testing.T, r *Report, id string) Result {
	t.Helper()
	for _, c := range r.Checks {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no result for %s", id)
	return Result{}
}

// TestReadbackThatAppendsCRLFIsNotBlamedOnSMTP: a POP3 read-back server
// that appends CRLF to every message, behind a correct SMTP server: the
// checks judging content by read-back skip naming the alteration; none
// fails or warns. Checked as a POP3 server itself, it fails end to end.
func TestReadbackThatAppendsCRLFIsNotBlamedOnSMTP(t *testing.T) {
	smtp, pop3, _, opts := embedded(t, nil)
	appendsCRLF := proxied(t, pop3, retrRewriter(func(lines []string) []string { return append(lines, "\r\n") }))
	opts.Readback = &appendsCRLF
	opts.Only = []string{"smtp.data.transparency", "smtp.8bitmime.preserved", "smtp.8bit.without-8bitmime", "smtp.received.added", "smtp.content.*"}
	report := runTargets(t, []Target{smtp}, opts)
	opts.Only = []string{"e2e.pop3.byte-identical"}
	if r := runTargets(t, []Target{appendsCRLF}, opts).Checks[0]; r.Status != Fail || !strings.Contains(r.Message, `appends "\r\n"`) {
		t.Errorf("%s against the POP3 server itself: %s (%s), want a failure naming the CRLF", r.ID, r.Status, r.Message)
	}
	for _, id := range []string{"smtp.data.transparency", "smtp.8bitmime.preserved", "smtp.received.added", "smtp.content.from-line"} {
		r := resultOf(t, report, id)
		if r.Status != Skip || !strings.Contains(r.Message, "precondition: ") || !strings.Contains(r.Message, `appends "\r\n"`) {
			t.Errorf("%s: %s (%s), want a skip naming the read-back's alteration\n%s", id, r.Status, r.Message, transcriptOf(r))
		}
	}
	for _, r := range report.Checks {
		if r.Status == Fail || r.Status == Warn || r.Status == Error {
			t.Errorf("%s: %s (%s)", r.ID, r.Status, r.Message)
		}
	}
	// Once per run: one control message, whichever check sent it.
	controls := 0
	for _, r := range report.Checks {
		for _, l := range r.Transcript {
			if strings.Contains(l.Text, "read-back control: a plain message") {
				controls++
			}
		}
	}
	if controls != 1 {
		t.Errorf("%d control messages in the run, want 1", controls)
	}
}

// TestHeaderFieldsAddedAtTheEndAreAllowed: a mailbox that adds a header
// field at the end of the header block, the body identical, alters
// nothing the sender wrote: the end-to-end and read-back checks pass.
func TestHeaderFieldsAddedAtTheEndAreAllowed(t *testing.T) {
	smtp, pop3, _, opts := embedded(t, nil)
	addsAtEnd := proxied(t, pop3, retrRewriter(func(lines []string) []string {
		i := slices.Index(lines, "\r\n")
		return slices.Insert(lines, i, "X-Spam-Score: 0.0\r\n")
	}))
	opts.Readback = &addsAtEnd
	opts.Only = []string{"smtp.data.transparency", "smtp.8bitmime.preserved", "smtp.content.from-line", "e2e.pop3.byte-identical"}
	report := runTargets(t, []Target{smtp, addsAtEnd}, opts)
	for _, r := range report.Checks {
		if r.Status != Pass {
			t.Errorf("%s: %s (%s)\n%s", r.ID, r.Status, r.Message, transcriptOf(r))
		}
	}
	if len(report.Checks) != 4 {
		t.Errorf("%d results, want 4", len(report.Checks))
	}
}

// TestReorderedHeaderFieldsAreCaught: a mailbox that swaps two header
// fields fails end to end, and the SMTP read-back checks, unable to tell
// whose doing that is, skip.
func TestReorderedHeaderFieldsAreCaught(t *testing.T) {
	smtp, pop3, _, opts := embedded(t, nil)
	reorders := proxied(t, pop3, retrRewriter(func(lines []string) []string {
		s := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "Subject:") })
		m := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "Message-ID:") })
		if s >= 0 && m >= 0 {
			lines[s], lines[m] = lines[m], lines[s]
		}
		return lines
	}))
	opts.Readback = &reorders
	opts.Only = []string{"smtp.data.transparency", "e2e.pop3.byte-identical"}
	report := runTargets(t, []Target{smtp, reorders}, opts)
	if r := resultOf(t, report, "e2e.pop3.byte-identical"); r.Status != Fail || !strings.Contains(r.Message, "reordered") {
		t.Errorf("e2e.pop3.byte-identical: %s (%s), want a failure naming the reordering", r.Status, r.Message)
	}
	if r := resultOf(t, report, "smtp.data.transparency"); r.Status != Skip {
		t.Errorf("smtp.data.transparency: %s (%s), want skip", r.Status, r.Message)
	}
}

// TestReadbackWaitsForSlowDelivery: a server that delivers the message
// some seconds after its 250 (a queue, an mbox lock, a content filter)
// still gets its verdict: the read-back waits, with backoff, up to
// DefaultReadbackTimeout.
func TestReadbackWaitsForSlowDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for two deliveries of 11 s each")
	}
	smtp, pop3, _, opts := embedded(t, faultsmtp.DeliverAfter(11*time.Second).Configure)
	var sessions atomic.Int32
	counted := proxied(t, pop3, &wireFault{Client: func(line string) (bool, string) {
		if strings.HasPrefix(line, "USER ") {
			sessions.Add(1)
		}
		return true, ""
	}})
	opts.Readback = &counted
	opts.Only = []string{"smtp.received.added"}
	report := runTargets(t, []Target{smtp}, opts)
	if r := resultOf(t, report, "smtp.received.added"); r.Status != Pass {
		t.Errorf("smtp.received.added: %s (%s)\n%s", r.Status, r.Message, transcriptOf(r))
	}
	// Two waits of 11 s: polling every 100 ms would take some 220
	// sessions, each locking an mbox against the delivery awaited.
	if n := sessions.Load(); n > 40 {
		t.Errorf("%d read-back sessions for two deliveries: the polling does not back off", n)
	}
	t.Logf("%d read-back sessions", sessions.Load())
}

// TestRunsLeaveNoTraces: the whole suite, run twice against the reference
// server, leaves no message of its own in the --rcpt mailbox; a run with
// no read-back mailbox lists what it leaves there.
func TestRunsLeaveNoTraces(t *testing.T) {
	smtp, pop3, imap, opts := embedded(t, nil)
	for range 2 {
		report := runTargets(t, []Target{smtp, pop3, imap}, opts)
		for _, l := range report.Leftovers {
			if slices.Contains(l.To, opts.Rcpt) {
				t.Errorf("a run with a read-back mailbox left a message to %s: %+v", opts.Rcpt, l)
			}
		}
	}
	if left := nonceMarks(t, pop3); len(left) > 0 {
		t.Errorf("%d messages of the suite left in the mailbox: %v", len(left), left)
	}
	blind := opts
	blind.Readback, blind.Seed = nil, nil
	blind.Only = []string{"smtp.data.*"}
	report := runTargets(t, []Target{smtp}, blind)
	listed := map[string]bool{}
	for _, l := range report.Leftovers {
		listed[l.Nonce] = true
	}
	left := nonceMarks(t, pop3)
	if len(left) == 0 {
		t.Fatal("the run without read-back left nothing: the test proves nothing")
	}
	for _, n := range left {
		if !listed[n] {
			t.Errorf("a message of the suite (nonce %s) is left in the mailbox, and the report does not list it", n)
		}
	}
}

// nonceMarks returns the X-Mailcheck-Nonce of every message in the POP3
// mailbox.
func nonceMarks(t *testing.T, target Target) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o := Options{}.WithDefaults()
	c, err := engine.Detached("test", target, &o).DialTarget(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cmd := func(line string) string {
		if line != "" {
			c.Send(line)
		}
		l, err := c.ReadLine()
		if err != nil {
			t.Fatal(err)
		}
		return string(l)
	}
	cmd("")
	cmd("USER " + target.User)
	if st := cmd("PASS " + target.Password); !strings.HasPrefix(st, "+OK") {
		t.Fatalf("PASS: %s", st)
	}
	var count int
	if _, err := fmt.Sscanf(cmd("STAT"), "+OK %d", &count); err != nil {
		t.Fatal(err)
	}
	var nonces []string
	for i := 1; i <= count; i++ {
		cmd("TOP " + strconv.Itoa(i) + " 0")
		for {
			l := cmd("")
			if l == ".\r\n" {
				break
			}
			if v, ok := bytes.CutPrefix([]byte(l), []byte("X-Mailcheck-Nonce: ")); ok {
				nonces = append(nonces, strings.TrimSpace(string(v)))
			}
		}
	}
	cmd("QUIT")
	return nonces
}

// TestLongContentAcceptedIntactPasses: a server whose line limit is raised
// (RFC 5321 §4.5.3.1 allows it) accepts the long lines and delivers them
// intact: the content checks pass on the read-back, not on a refusal.
func TestLongContentAcceptedIntactPasses(t *testing.T) {
	smtp, _, _, opts := embedded(t, func(c *reference.Config) { c.SMTP.MaxTextLine = 10000 })
	opts.Only = []string{"smtp.content.*"}
	report := runTargets(t, []Target{smtp}, opts)
	if len(report.Checks) != 4 {
		t.Errorf("%d results, want 4", len(report.Checks))
	}
	for _, r := range report.Checks {
		if r.Status != Pass || r.Message != "accepted and delivered intact" {
			t.Errorf("%s: %s (%s), want a pass on the read-back\n%s", r.ID, r.Status, r.Message, transcriptOf(r))
		}
	}
}

// TestUndeletableMessagesAreListed: a read-back mailbox over IMAP without
// UIDPLUS cannot delete one message alone; the run lists what it found and
// kept.
func TestUndeletableMessagesAreListed(t *testing.T) {
	smtp, _, imap, opts := embedded(t, func(c *reference.Config) { c.IMAP.InsecureAuth = true })
	noUIDPlus := proxied(t, imap, &wireFault{Server: func(_ int, line string) []string {
		if strings.Contains(line, "CAPABILITY") {
			line = strings.NewReplacer(" UIDPLUS", "", " IMAP4rev2", "").Replace(line)
		}
		return []string{line}
	}})
	opts.Readback = &noUIDPlus
	opts.Only = []string{"smtp.data.dot-termination"}
	report := runTargets(t, []Target{smtp}, opts)
	if len(report.Leftovers) != 1 || !strings.Contains(report.Leftovers[0].Reason, "cannot delete it alone") {
		t.Fatalf("leftovers %+v, want the dot-termination message, found and kept", report.Leftovers)
	}
	if l := report.Leftovers[0]; l.Check != "smtp.data.dot-termination" || !slices.Equal(l.To, []string{opts.Rcpt}) {
		t.Errorf("leftover %+v", l)
	}
}

// TestRefusedRecipientSkipsContentChecks: a recipient the server refuses
// leaves the read-back checks nothing to judge: they skip with the reply,
// they do not fail.
func TestRefusedRecipientSkipsContentChecks(t *testing.T) {
	smtp, _, _, opts := embedded(t, nil)
	opts.Rcpt = "nobody@" + EmbeddedDomain
	opts.Only = []string{"smtp.data.transparency", "smtp.received.added", "smtp.8bit*", "smtp.content.*"}
	report := runTargets(t, []Target{smtp}, opts)
	for _, r := range report.Checks {
		if r.Status != Skip || !strings.Contains(r.Message, "precondition: ") || !strings.Contains(r.Message, "550") {
			t.Errorf("%s: %s (%s), want a skip quoting the refusal", r.ID, r.Status, r.Message)
		}
	}
}

// TestPOP3SeedWaitBacksOff: the POP3 suite waits for its seeded messages
// with backoff too, not a login session every 50 ms (each locks an mbox
// maildrop against the delivery awaited, RFC 1939 §8).
func TestPOP3SeedWaitBacksOff(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a delivery of 4 s")
	}
	_, pop3, _, opts := embedded(t, faultsmtp.DeliverAfter(4*time.Second).Configure)
	var sessions atomic.Int32
	counted := proxied(t, pop3, &wireFault{Client: func(line string) (bool, string) {
		if strings.HasPrefix(line, "USER ") {
			sessions.Add(1)
		}
		return true, ""
	}})
	opts.Readback = nil
	opts.Only = []string{"pop3.top.lines"}
	report := runTargets(t, []Target{counted}, opts)
	if r := resultOf(t, report, "pop3.top.lines"); r.Status != Pass {
		t.Errorf("pop3.top.lines: %s (%s)\n%s", r.Status, r.Message, transcriptOf(r))
	}
	if n := sessions.Load(); n > 15 {
		t.Errorf("%d POP3 sessions while waiting 4 s for one delivery: the wait does not back off", n)
	}
	t.Logf("%d POP3 sessions", sessions.Load())
}

// TestReadbackWithoutTOPIsNoFailure: TOP is optional (RFC 1939 §7). A
// POP3 server without it cannot be searched by header, which is no proof
// that a message did not arrive: the checks reading back through it
// skip, naming TOP, rather than fail.
func TestReadbackWithoutTOPIsNoFailure(t *testing.T) {
	_, pop3, _, opts := embedded(t, nil)
	noTOP := proxied(t, pop3, &wireFault{Client: func(line string) (bool, string) {
		if strings.HasPrefix(strings.ToUpper(line), "TOP ") {
			return false, "-ERR unknown command\r\n"
		}
		return true, ""
	}})
	opts.Readback = &noTOP
	opts.ReadbackTimeout = 2 * time.Second
	opts.Only = []string{"e2e.pop3.byte-identical"}
	report := runTargets(t, []Target{noTOP}, opts)
	if r := resultOf(t, report, "e2e.pop3.byte-identical"); r.Status != Skip || !strings.Contains(r.Message, "TOP") {
		t.Errorf("e2e.pop3.byte-identical: %s (%s), want a skip naming TOP\n%s", r.Status, r.Message, transcriptOf(r))
	}
}
