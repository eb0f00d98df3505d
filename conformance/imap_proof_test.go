package conformance

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/imapsuite"
	"github.com/mailcheck/mailcheck/internal/faultimap"
	"github.com/mailcheck/mailcheck/internal/faultproxy"
	"github.com/mailcheck/mailcheck/reference"
)

// imapProof breaks the embedded reference server in the one way an IMAP
// check exists to catch: with a wrapper around its sessions, or, for what
// shows only on the wire, with a proxy in front of the server that alters
// one thing (internal/faultimap holds the faults of the backend's making).
type imapProof struct {
	fault *faultimap.Wrapper
	wire  *wireFault
	// options adjusts the run (a shorter read timeout where the fault is
	// a server that never answers).
	options func(o *Options)
}

// wireFault alters an IMAP conversation in a proxy.
type wireFault = faultproxy.Fault

func backendFault(f *faultimap.Wrapper) imapProof { return imapProof{fault: f} }

func serverLines(f func(line string) []string) imapProof {
	return imapProof{wire: &wireFault{Server: func(_ int, line string) []string { return f(line) }}}
}

var (
	taggedBAD    = regexp.MustCompile(`^(mc\d+) BAD `)
	taggedOK     = regexp.MustCompile(`^mc\d+ OK`)
	versionCaps  = regexp.MustCompile(`(?i) IMAP4rev[12]\b`)
	selectAbsent = regexp.MustCompile(`^(\S+) SELECT mailcheck-absent-`)
	openInbox    = regexp.MustCompile(`^(\S+) (?i:SELECT|EXAMINE) (?i:"?inbox"?)\r\n$`)
	selectUIDV   = regexp.MustCompile(`^(\* OK \[UIDVALIDITY )\d+`)
	statusUIDV   = regexp.MustCompile(`^(\* STATUS .*UIDVALIDITY )\d+`)
)

// badAsNO answers NO where the server says BAD: the fault of two checks.
var badAsNO = serverLines(func(l string) []string { return []string{taggedBAD.ReplaceAllString(l, "$1 NO ")} })

// uidValidityPerCommand is a proxy giving each SELECT and EXAMINE a new
// UIDVALIDITY, every other one lower than the one before, and STATUS yet
// another: UIDs that change within a session (RFC 9051 §2.3.1.1).
func uidValidityPerCommand() imapProof {
	var n atomic.Uint32
	return serverLines(func(l string) []string {
		switch {
		case selectUIDV.MatchString(l):
			k := n.Add(1)
			v := 5000 + 10*k
			if k%2 == 0 {
				v = 5000 - 10*k
			}
			l = selectUIDV.ReplaceAllString(l, "${1}"+strconv.Itoa(int(v)))
		case statusUIDV.MatchString(l):
			l = statusUIDV.ReplaceAllString(l, "${1}"+strconv.Itoa(int(7000+n.Add(1))))
		}
		return []string{l}
	})
}

// imapFaultFor proves every IMAP check: against its fault it must fail
// (MUST) or warn (SHOULD/MAY).
var imapFaultFor = map[string]imapProof{
	"imap.greeting.ok": {wire: &wireFault{Server: func(n int, line string) []string {
		if n == 0 {
			return []string{"* HELLO mailcheck proxy here\r\n"}
		}
		return []string{line}
	}}},
	"imap.capability.version": serverLines(func(l string) []string {
		if strings.HasPrefix(l, "* CAPABILITY") {
			l = versionCaps.ReplaceAllString(l, "")
		}
		return []string{l}
	}),
	"imap.command.one-tagged-reply": serverLines(func(l string) []string {
		if taggedOK.MatchString(l) {
			return []string{l, l}
		}
		return []string{l}
	}),
	"imap.command.syntax-error-bad": badAsNO,
	"imap.command.unknown-bad":      badAsNO,
	"imap.logout.bye": serverLines(func(l string) []string {
		if strings.HasPrefix(l, "* BYE") {
			return nil
		}
		return []string{l}
	}),
	"imap.login.logindisabled": serverLines(func(l string) []string {
		// The server accepts LOGIN in clear text and claims it does not.
		if strings.Contains(l, "CAPABILITY") && !strings.Contains(l, "LOGINDISABLED") {
			l = strings.Replace(l, "CAPABILITY", "CAPABILITY LOGINDISABLED", 1)
		}
		return []string{l}
	}),
	// The server sends no continuation request for a literal in STATUS
	// (APPEND's literals, which every check that fills a mailbox needs,
	// still get theirs).
	"imap.literal.continuation": {
		wire: &wireFault{PerConn: func() *wireFault {
			var statusLiteral atomic.Bool
			return &wireFault{
				Client: func(l string) (bool, string) {
					if strings.HasSuffix(l, " STATUS {5}\r\n") {
						statusLiteral.Store(true)
					}
					return true, ""
				},
				Server: func(_ int, l string) []string {
					if strings.HasPrefix(l, "+") && statusLiteral.Swap(false) {
						return nil
					}
					return []string{l}
				},
			}
		}},
		options: func(o *Options) { o.ReadTimeout = time.Second },
	},
	"imap.select.responses": serverLines(func(l string) []string {
		if strings.Contains(l, "[UIDNEXT ") {
			return nil
		}
		return []string{l}
	}),
	"imap.select.read-write": serverLines(func(l string) []string { return []string{strings.Replace(l, "[READ-WRITE] ", "", 1)} }),
	"imap.examine.read-only": serverLines(func(l string) []string { return []string{strings.Replace(l, "[READ-ONLY]", "[READ-WRITE]", 1)} }),
	"imap.examine.no-seen":   backendFault(faultimap.ExamineSetsSeen),
	"imap.select.failed-deselects": {wire: &wireFault{Client: func(l string) (bool, string) {
		// The failure is the proxy's: the server keeps the mailbox
		// selected before.
		if m := selectAbsent.FindStringSubmatch(l); m != nil {
			return false, m[1] + " NO [NONEXISTENT] No such mailbox\r\n"
		}
		return true, ""
	}}},
	"imap.mailbox.inbox-case-insensitive": {wire: &wireFault{Client: func(l string) (bool, string) {
		if m := openInbox.FindStringSubmatch(l); m != nil && !strings.Contains(l, "INBOX") {
			return false, m[1] + " NO [NONEXISTENT] No such mailbox\r\n"
		}
		return true, ""
	}}},
	"imap.create.existing":          backendFault(faultimap.CreateExistingSucceeds),
	"imap.create.persists":          {wire: faultimap.CreatedSessionOnly},
	"imap.delete.inbox":             backendFault(faultimap.DeleteInboxSucceeds),
	"imap.delete.missing":           backendFault(faultimap.DeleteMissingSucceeds),
	"imap.append.missing-mailbox":   backendFault(faultimap.AppendCreatesMailbox),
	"imap.append.trycreate":         backendFault(faultimap.AppendNoTryCreate),
	"imap.append.content-exact":     backendFault(faultimap.AppendAltersMessage),
	"imap.status.messages":          backendFault(faultimap.StatusCountOffByOne),
	"imap.uid.ascending":            {wire: faultimap.UIDsNotAscending},
	"imap.uid.below-uidnext":        backendFault(faultimap.UIDNextTooLow),
	"imap.uidvalidity.stable":       backendFault(faultimap.UIDValidityPerLogin),
	"imap.uidvalidity.session":      uidValidityPerCommand(),
	"imap.uidvalidity.recreate":     backendFault(faultimap.FixedUIDValidity),
	"imap.uid.fetch-includes-uid":   backendFault(faultimap.UIDFetchOmitsUID),
	"imap.uid.star-range":           backendFault(faultimap.StarRangeExact),
	"imap.flags.persist":            backendFault(faultimap.FlagsSessionOnly),
	"imap.store.fetch-response":     backendFault(faultimap.StoreNoFetch),
	"imap.store.silent":             backendFault(faultimap.StoreIgnoresSilent),
	"imap.fetch.body-sets-seen":     backendFault(faultimap.BodyNoSeen),
	"imap.fetch.peek-no-seen":       backendFault(faultimap.PeekSetsSeen),
	"imap.fetch.size-matches":       {wire: faultimap.SizeOffByOne},
	"imap.close.expunges-silently":  backendFault(faultimap.CloseKeepsDeleted),
	"imap.expunge.renumber":         backendFault(faultimap.SeqNumsFixedAtSelect),
	"imap.expunge.not-during-fetch": {wire: faultimap.ExpungeDuringFetch},
	"imap.consistency.count-uids":   backendFault(faultimap.NoMailboxUpdates),
	"imap.consistency.flags":        {wire: faultimap.NoFlagUpdates},
	"imap.mailbox.new-mail-exists":  backendFault(faultimap.NoMailboxUpdates),
	// A malformed response no other check reads: "EXPUNGED" is no
	// message-data (RFC 9051 §9).
	"imap.syntax.responses": serverLines(func(l string) []string {
		if strings.HasPrefix(l, "* CAPABILITY ") {
			return []string{l, "* 2 EXPUNGED\r\n"}
		}
		return []string{l}
	}),
}

// startIMAP starts the embedded reference server set up for p and returns
// the IMAP target and options as RunEmbedded would give them (seeding
// through its SMTP server). Behind a wire fault the server takes LOGIN in
// clear text and the proxy hides STARTTLS, so the proxy sees plain text.
func startIMAP(t *testing.T, p imapProof) (Target, Options) {
	t.Helper()
	target, opts, _ := startIMAPServer(t, p)
	return target, opts
}

// startIMAPServer is startIMAP, with the server, whose store the test can
// look into.
func startIMAPServer(t *testing.T, p imapProof) (Target, Options, *reference.Server) {
	t.Helper()
	srv, trust, err := StartEmbedded(func(c *reference.Config) {
		if p.fault != nil {
			p.fault.Install(&c.IMAP)
		}
		c.IMAP.InsecureAuth = p.wire != nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Shutdown, not Close: it waits for everything to stop, so a
		// long test run does not pile up open files.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		os.RemoveAll(srv.DataDir())
	})
	addr := srv.Addr("imap")
	if p.wire != nil {
		addr = startProxy(t, addr, p.wire)
	}
	target, err := engine.ParseTarget("imap://"+embeddedUser+":"+embeddedPassword+"@"+addr, "")
	if err != nil {
		t.Fatal(err)
	}
	seedTarget, _ := engine.ParseTarget("smtp://"+srv.SMTPAddr(), "")
	opts := Options{Rcpt: embeddedUser + "@" + EmbeddedDomain, Seed: &seedTarget, TLS: trust}
	if p.options != nil {
		p.options(&opts)
	}
	return target, opts, srv
}

// leftovers are the suite's mailboxes still in the store: every check
// deletes what it creates, whatever its verdict.
func leftovers(t *testing.T, srv *reference.Server) []string {
	t.Helper()
	names, err := srv.Store().ListMailboxes(embeddedUser)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if strings.Contains(n, "mailcheck-") {
			out = append(out, n)
		}
	}
	return out
}

func runIMAP(t *testing.T, target Target, opts Options) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	report, err := RunTargets(ctx, []Target{target}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return report
}

// TestIMAPChecksAllProven: every IMAP check has its fault, and every fault
// its check.
func TestIMAPChecksAllProven(t *testing.T) {
	ids := map[string]bool{}
	for _, c := range imapsuite.Checks() {
		ids[c.ID] = true
		if _, ok := imapFaultFor[c.ID]; !ok {
			t.Errorf("%s has no fault proving it can fail", c.ID)
		}
	}
	for id := range imapFaultFor {
		if !ids[id] {
			t.Errorf("imapFaultFor has %s, which is not in the catalogue", id)
		}
	}
	if len(ids) < 30 {
		t.Errorf("%d IMAP checks", len(ids))
	}
}

// TestIMAPChecksFailAgainstTheirFaults: each check, against the reference
// server with its one fault, gives fail (MUST) or warn (SHOULD/MAY).
func TestIMAPChecksFailAgainstTheirFaults(t *testing.T) {
	for _, c := range imapsuite.Checks() {
		p, ok := imapFaultFor[c.ID]
		if !ok {
			continue // TestIMAPChecksAllProven reports it
		}
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			target, opts := startIMAP(t, p)
			opts.Only = []string{c.ID}
			report := runIMAP(t, target, opts)
			if len(report.Checks) != 1 {
				t.Fatalf("%d results for %s", len(report.Checks), c.ID)
			}
			want := Fail
			if c.Level != Must {
				want = Warn
			}
			r := report.Checks[0]
			t.Logf("%s: %s", r.Status, r.Message)
			if r.Status != want {
				t.Errorf("against its fault: %s (%s), want %s\n%s", r.Status, r.Message, want, transcriptOf(r))
			}
		})
	}
}

// TestIMAPSuitePassesAgainstReference: the whole IMAP suite passes against
// the correct reference server, and quickly.
func TestIMAPSuitePassesAgainstReference(t *testing.T) {
	target, opts := startIMAP(t, imapProof{})
	opts.Only = []string{"imap.*"}
	start := time.Now()
	report := runIMAP(t, target, opts)
	t.Logf("IMAP suite: %d checks in %v", len(report.Checks), time.Since(start))
	if len(report.Checks) != len(imapsuite.Checks()) {
		t.Errorf("%d results for %d checks", len(report.Checks), len(imapsuite.Checks()))
	}
	for _, r := range report.Checks {
		if r.Status != Pass {
			t.Errorf("%s: %s (%s)\n%s", r.ID, r.Status, r.Message, transcriptOf(r))
		}
	}
}

// startProxy relays IMAP between clients and upstream through f, hiding
// STARTTLS so that the proxy sees plain text.
func startProxy(t *testing.T, upstream string, f *wireFault) string {
	t.Helper()
	return faultproxy.Start(t, upstream, &faultproxy.Fault{PerConn: func() *faultproxy.Fault {
		inner := f
		if inner.PerConn != nil {
			inner = inner.PerConn()
		}
		return &faultproxy.Fault{
			Client:  inner.Client,
			Rewrite: inner.Rewrite,
			Server: func(n int, line string) []string {
				if strings.Contains(line, "CAPABILITY") {
					line = strings.Replace(line, " STARTTLS", "", 1)
				}
				if inner.Server == nil {
					return []string{line}
				}
				return inner.Server(n, line)
			},
		}
	}})
}

// sameFault reports whether two proofs break the server in the same way:
// the same session wrapper, or the same proxy.
func sameFault(a, b imapProof) bool {
	if a.wire != nil || b.wire != nil {
		return a.wire == b.wire
	}
	return a.fault == b.fault
}

var (
	tryCreateCode = regexp.MustCompile(`^(mc\d+) NO \[TRYCREATE\] .*`)
	expungeLine   = regexp.MustCompile(`^\* (\d+) EXPUNGE\r\n$`)
)

// malformedFaults are servers whose only fault is a malformed response:
// the check about that response says "malformed", imap.syntax.responses
// fails quoting it, and nothing else fails for it or errors.
var malformedFaults = map[string]struct {
	proof   imapProof
	subject string
}{
	// RFC 9051 §9 resp-text: the code stands right after the status word.
	"NO APPEND [TRYCREATE] failed": {subject: "imap.append.trycreate", proof: serverLines(func(l string) []string {
		return []string{tryCreateCode.ReplaceAllString(l, "$1 NO APPEND [TRYCREATE] failed\r")}
	})},
	// RFC 9051 §9 message-data: "EXPUNGE", not "EXPUNGED".
	"* n EXPUNGED": {subject: "imap.expunge.renumber", proof: serverLines(func(l string) []string {
		return []string{expungeLine.ReplaceAllString(l, "* $1 EXPUNGED\r\n")}
	})},
}

func TestIMAPMalformedIsCalledMalformed(t *testing.T) {
	for name, m := range malformedFaults {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := verdicts(t, m.proof)
			for _, id := range []string{m.subject, "imap.syntax.responses"} {
				if r := got[id]; r.Status != Fail || !strings.Contains(r.Message, "malformed") {
					t.Errorf("%s: %s (%s), want fail naming the malformed response", id, r.Status, r.Message)
				}
			}
			for id, r := range got {
				if r.Status == Error || (r.Status == Fail || r.Status == Warn) && !strings.Contains(r.Message, "malformed") {
					t.Errorf("%s: %s (%s)\n%s", id, r.Status, r.Message, transcriptOf(r))
				}
			}
		})
	}
}
