package conformance

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/internal/leakcheck"
	"github.com/mailcheck/mailcheck/internal/smtptest"
)

// These tests run every suite against servers that misbehave on purpose:
// one never answers, one sends a line without end, one floods a reply of
// millions of lines, one closes in the middle of a reply, one answers
// garbage, one stalls after DATA. Whatever the server does, the run ends
// (a context far longer than the timeouts guards against a hang; no test
// depends on speed), no check passes on what it did not get, the heap
// stays bounded while the server streams hundreds of megabytes, and no
// goroutine outlives the run.

// hostileOptions are short timeouts, so a server that never answers costs
// little, and every input checks need (recipient, login), so checks run
// rather than skip.
func hostileOptions() Options {
	return Options{
		Rcpt: "bob@example.org", User: "bob", Password: "pw",
		Timeout: 3 * time.Second, ReadTimeout: 300 * time.Millisecond, ReadbackTimeout: 500 * time.Millisecond,
	}
}

// hangGuard bounds a whole run: far beyond what the timeouts allow, so it
// only ever trips on a hang.
const hangGuard = 3 * time.Minute

// heapBound is the most the heap may grow while a hostile server streams;
// floodOctets is what each flood offers per connection.
const (
	heapBound   = 64 << 20
	floodOctets = 200 << 20
)

// hostileServer is one misbehaving server.
type hostileServer struct {
	name string
	// start starts it and returns the target URL and how many octets it
	// has flooded so far.
	start func(t *testing.T) (target string, flooded func() int64)
	// cannotRun is set when it misbehaves before a usable greeting: Run
	// must refuse to start (ErrCannotRun) and say why.
	cannotRun bool
	// met tells from a check's transcript whether it met the misbehaviour;
	// such a check must not pass. nil: every check meets it (the server
	// misbehaves from its first byte), and none may pass.
	met func(Result) bool
	// expect are phrases one of which every error verdict's message
	// holds: the error names what went wrong.
	expect []string
}

// Phrases that name what went wrong. On a loaded machine a reply can
// also just come too late, or a connection not be accepted in time (the
// fake floods on every other connection): timeouts are clear errors too,
// whatever the server's misbehaviour.
var (
	timedOut  = []string{"no reply within the read timeout", "timeout", "i/o timeout"}
	tooLong   = []string{"longer than"}
	tooMuch   = []string{"more than"}
	closed    = []string{"closed the connection", "connection reset", "EOF", "broken pipe"}
	malformed = []string{"malformed", "HTTP/1.0", "does not offer service", "answered", "unexpected"}
)

func phrases(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// smtpHostile is a scripted SMTP server that misbehaves (how) on the
// verbs on says (the GREETING included), and answers the rest normally.
func smtpHostile(how smtptest.Hangup, lineLength int, on func(verb string) bool) func(t *testing.T) (string, func() int64) {
	return func(t *testing.T) (string, func() int64) {
		srv := smtptest.Start(t, smtptest.Config{
			Extensions: []string{"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE 10000000"},
			Hangup: func(verb, _ string) smtptest.Hangup {
				if on(verb) {
					return how
				}
				return smtptest.HangupNone
			},
			Timeout:     5 * time.Second,
			FloodOctets: floodOctets, FloodLineLength: lineLength,
		})
		return "smtp://" + srv.Addr(), srv.Flooded
	}
}

func always(string) bool          { return true }
func afterGreeting(v string) bool { return v != "GREETING" }
func endOfData(v string) bool     { return v == "." }

// sent: a check met the misbehaviour when it sent a line pick picks (a
// command the server misbehaves on).
func sent(pick func(clientLine string) bool) func(Result) bool {
	return func(r Result) bool {
		for _, l := range r.Transcript {
			if l.Dir == engine.DirClient && pick(l.Text) {
				return true
			}
		}
		return false
	}
}

// received: a check met the misbehaviour when it read a server line
// holding marker (a flood line, where the status line before the flood is
// a valid answer by itself).
func received(marker string) func(Result) bool {
	return func(r Result) bool {
		for _, l := range r.Transcript {
			if l.Dir == engine.DirServer && strings.Contains(l.Text, marker) {
				return true
			}
		}
		return false
	}
}

// rawHostile is a POP3 or IMAP server: it greets with greeting (none: it
// misbehaves at once), answers what answer answers, and misbehaves on the
// rest; status and line shape its floods.
func rawHostile(scheme, greeting string, answer func(string) string, how smtptest.Hangup, status, line string) func(t *testing.T) (string, func() int64) {
	return func(t *testing.T) (string, func() int64) {
		srv := smtptest.StartRaw(t, smtptest.RawConfig{
			Greeting: greeting, Answer: answer,
			Misbehave: how, Status: status, Line: line,
			Timeout: 5 * time.Second, FloodOctets: floodOctets,
		})
		return scheme + "://bob:pw@" + srv.Addr(), srv.Flooded
	}
}

// pop3Login answers what logging in takes (RFC 1939 §7 USER, PASS) and
// QUIT; everything else meets the misbehaviour.
func pop3Login(line string) string {
	verb, _, _ := strings.Cut(strings.ToUpper(line), " ")
	switch verb {
	case "USER", "PASS", "QUIT":
		return "+OK"
	}
	return ""
}

// imapLogin answers CAPABILITY, LOGIN and LOGOUT (RFC 9051 §6.1.1,
// §6.2.3, §6.1.3); everything else meets the misbehaviour.
func imapLogin(line string) string {
	tag, rest, _ := strings.Cut(line, " ")
	verb, _, _ := strings.Cut(strings.ToUpper(rest), " ")
	switch verb {
	case "CAPABILITY":
		return "* CAPABILITY IMAP4rev1\n" + tag + " OK CAPABILITY completed"
	case "LOGIN":
		return tag + " OK [CAPABILITY IMAP4rev1] LOGIN completed"
	case "LOGOUT":
		return "* BYE logging out\n" + tag + " OK LOGOUT completed"
	}
	return ""
}

// unanswered: a check met the misbehaviour when it sent a line answer
// does not answer.
func unanswered(answer func(string) string) func(Result) bool {
	return sent(func(l string) bool { return answer(l) == "" })
}

// floodLine is in every flood line of a raw server (never in a status
// line): see smtptest.HangupFlood.
const floodLine = "floodxx"

const (
	pop3Greeting = "+OK hostile POP3 ready"
	imapGreeting = "* OK [CAPABILITY IMAP4rev1] hostile IMAP ready"
)

var hostileServers = []hostileServer{
	// SMTP, misbehaving from the greeting on.
	{name: "smtp/never-answers", start: smtpHostile(smtptest.HangupSilent, 0, always), cannotRun: true, expect: timedOut},
	{name: "smtp/endless-line", start: smtpHostile(smtptest.HangupEndlessLine, 0, always), cannotRun: true, expect: tooLong},
	{name: "smtp/million-line-reply", start: smtpHostile(smtptest.HangupFlood, 0, always), expect: tooMuch},
	{name: "smtp/long-line-reply", start: smtpHostile(smtptest.HangupFlood, 60<<10, always), cannotRun: true, expect: phrases(tooMuch, tooLong)},
	{name: "smtp/closes-mid-reply", start: smtpHostile(smtptest.HangupMidReply, 0, always), expect: closed},
	{name: "smtp/garbage", start: smtpHostile(smtptest.HangupGarbage, 0, always), expect: malformed},
	// SMTP, greeting properly and misbehaving on every command after.
	{name: "smtp/greets-then-never-answers", start: smtpHostile(smtptest.HangupSilent, 0, afterGreeting), met: sent(always),
		expect: phrases(timedOut, closed)},
	{name: "smtp/greets-then-million-line-reply", start: smtpHostile(smtptest.HangupFlood, 0, afterGreeting), met: sent(always),
		expect: phrases(tooMuch, closed)},
	{name: "smtp/greets-then-garbage", start: smtpHostile(smtptest.HangupGarbage, 0, afterGreeting), met: sent(always),
		expect: phrases(malformed, timedOut, closed)},
	// SMTP, accepting everything and then stalling after the data.
	{name: "smtp/stalls-after-data", start: smtpHostile(smtptest.HangupSilent, 0, endOfData),
		met: sent(func(l string) bool { return l == "." }), expect: phrases(timedOut, closed)},

	// POP3 and IMAP, misbehaving from the first byte.
	{name: "pop3/never-answers", start: rawHostile("pop3", "", nil, smtptest.HangupSilent, "", ""), cannotRun: true, expect: timedOut},
	{name: "pop3/endless-line", start: rawHostile("pop3", "", nil, smtptest.HangupEndlessLine, "", "+OK "), cannotRun: true, expect: tooLong},
	{name: "pop3/closes-mid-greeting", start: rawHostile("pop3", "", nil, smtptest.HangupMidReply, "", "+OK "), cannotRun: true, expect: closed},
	{name: "pop3/garbage", start: rawHostile("pop3", "", nil, smtptest.HangupGarbage, "", ""), expect: malformed},
	{name: "imap/never-answers", start: rawHostile("imap", "", nil, smtptest.HangupSilent, "", ""), cannotRun: true, expect: timedOut},
	{name: "imap/endless-line", start: rawHostile("imap", "", nil, smtptest.HangupEndlessLine, "", "* OK "), cannotRun: true, expect: tooLong},
	{name: "imap/closes-mid-greeting", start: rawHostile("imap", "", nil, smtptest.HangupMidReply, "", "* OK "), cannotRun: true, expect: closed},
	{name: "imap/garbage", start: rawHostile("imap", "", nil, smtptest.HangupGarbage, "", ""), expect: malformed},

	// POP3 and IMAP, greeting and logging in, then misbehaving.
	{name: "pop3/login-then-never-answers", start: rawHostile("pop3", pop3Greeting, pop3Login, smtptest.HangupSilent, "", ""),
		met: unanswered(pop3Login), expect: phrases(timedOut, closed)},
	{name: "pop3/login-then-endless-line", start: rawHostile("pop3", pop3Greeting, pop3Login, smtptest.HangupEndlessLine, "", "+OK "),
		met: unanswered(pop3Login), expect: phrases(tooLong, closed)},
	{name: "pop3/login-then-million-line-reply", start: rawHostile("pop3", pop3Greeting, pop3Login, smtptest.HangupFlood, "+OK flood follows", ""),
		met: received(floodLine), expect: phrases(tooMuch, closed)},
	{name: "pop3/login-then-closes-mid-reply", start: rawHostile("pop3", pop3Greeting, pop3Login, smtptest.HangupMidReply, "", "+OK "),
		met: unanswered(pop3Login), expect: closed},
	{name: "pop3/login-then-garbage", start: rawHostile("pop3", pop3Greeting, pop3Login, smtptest.HangupGarbage, "", ""),
		met: unanswered(pop3Login), expect: phrases(malformed, timedOut, closed)},
	{name: "imap/login-then-never-answers", start: rawHostile("imap", imapGreeting, imapLogin, smtptest.HangupSilent, "", ""),
		met: unanswered(imapLogin), expect: phrases(timedOut, closed)},
	{name: "imap/login-then-endless-line", start: rawHostile("imap", imapGreeting, imapLogin, smtptest.HangupEndlessLine, "", "* OK "),
		met: unanswered(imapLogin), expect: phrases(tooLong, closed)},
	{name: "imap/login-then-million-line-reply", start: rawHostile("imap", imapGreeting, imapLogin, smtptest.HangupFlood, "* OK flood follows", "* OK "),
		met: unanswered(imapLogin), expect: phrases(tooMuch, closed)},
	{name: "imap/login-then-endless-literal", start: rawHostile("imap", imapGreeting, imapLogin, smtptest.HangupFlood, "* 1 FETCH (BODY[] {2000000000}", ""),
		met: unanswered(imapLogin), expect: phrases(tooMuch, closed)},
	{name: "imap/login-then-long-literal", start: rawHostile("imap", imapGreeting, imapLogin, smtptest.HangupFlood, "* 1 FETCH (BODY[] {1000000}", ""),
		met: unanswered(imapLogin), expect: phrases(tooMuch, timedOut, closed)},
	{name: "imap/login-then-closes-mid-reply", start: rawHostile("imap", imapGreeting, imapLogin, smtptest.HangupMidReply, "* OK [ALERT] hi", "* "),
		met: unanswered(imapLogin), expect: closed},
	{name: "imap/login-then-garbage", start: rawHostile("imap", imapGreeting, imapLogin, smtptest.HangupGarbage, "", ""),
		met: unanswered(imapLogin), expect: phrases(malformed, timedOut, closed)},
}

// TestHostileServers runs each protocol's suite against each hostile
// server through Run (which first confirms the greeting) and, where Run
// rightly refuses to start, through engine.RunChecks, so every check meets
// every misbehaviour.
func TestHostileServers(t *testing.T) {
	for _, hs := range hostileServers {
		t.Run(hs.name, func(t *testing.T) {
			leakcheck.Check(t)
			raw, flooded := hs.start(t)
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			target, err := engine.ParseTarget(raw, "")
			if err != nil {
				t.Fatal(err)
			}
			var report *Report
			var runErr error
			var direct []Result
			grown := leakcheck.HeapGrowth(func() {
				report, runErr = Run(ctx, []string{raw}, "", hostileOptions())
				if runErr == nil {
					return
				}
				// Run refused to start: every check meets the server
				// anyway, through the runner.
				opts := hostileOptions().WithDefaults()
				if target.Protocol == "pop3" {
					opts.Parallel = 1 // as Run does
				}
				checks, _ := suite(target.Protocol)
				direct = engine.RunChecks(ctx, target, checks, &opts)
			})
			if ctx.Err() != nil {
				t.Fatalf("the runs did not end within %v: they hang", hangGuard)
			}
			t.Logf("heap grew %.1f MB while the server flooded %.1f MB", float64(grown)/(1<<20), float64(flooded())/(1<<20))
			if grown > heapBound {
				t.Errorf("the heap grew %.1f MB, over %d MB", float64(grown)/(1<<20), heapBound>>20)
			}
			switch {
			case hs.cannotRun:
				if !errors.Is(runErr, ErrCannotRun) || !containsAny(runErr.Error(), phrases(hs.expect, timedOut)) {
					t.Errorf("Run: %v, want ErrCannotRun naming one of %q", runErr, hs.expect)
				} else {
					t.Logf("Run: %v", runErr)
				}
				judgeHostile(t, "RunChecks", direct, hs)
			case runErr != nil:
				t.Errorf("Run: %v; the greeting was usable, so the checks should have run", runErr)
			default:
				judgeHostile(t, "Run", report.Checks, hs)
			}
		})
	}
}

// judgeHostile checks that no check that met the misbehaviour passed, that
// every verdict but a pass says why, and that every error of a check that
// met the misbehaviour names what went wrong.
func judgeHostile(t *testing.T, how string, results []Result, hs hostileServer) {
	t.Helper()
	if len(results) == 0 {
		t.Errorf("%s: no results", how)
	}
	count := map[Status]int{}
	messages := map[string]int{}
	metAny := false
	for _, r := range results {
		count[r.Status]++
		messages[string(r.Status)+": "+r.Message]++
		met := metMisbehaviour(r, hs.met)
		metAny = metAny || met
		switch {
		case r.Status == Pass && met:
			t.Errorf("%s: %s passed, yet it met the misbehaviour:\n%s", how, r.ID, transcriptOf(r))
		case r.Status != Pass && r.Message == "":
			t.Errorf("%s: %s: %s without a message", how, r.ID, r.Status)
		case r.Status == Error && met && !containsAny(r.Message, phrases(hs.expect, timedOut)):
			t.Errorf("%s: %s: error %q names none of %q\n%s", how, r.ID, r.Message, hs.expect, transcriptOf(r))
		}
	}
	if !metAny {
		t.Errorf("%s: no check met the misbehaviour: the test proves nothing", how)
	}
	t.Logf("%s: %d checks: %v", how, len(results), count)
	lines := make([]string, 0, len(messages))
	for m, n := range messages {
		lines = append(lines, fmt.Sprintf("%3d× %s", n, m))
	}
	sort.Strings(lines)
	t.Logf("verdicts:\n  %s", strings.Join(lines, "\n  "))
}

// metMisbehaviour reports whether a check met the server's misbehaviour:
// always when met is nil (the server misbehaves from its first byte).
func metMisbehaviour(r Result, met func(Result) bool) bool {
	return met == nil || met(r)
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
