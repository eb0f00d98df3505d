package conformance

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/faultsmtp"
	"github.com/mailcheck/mailcheck/reference"
	"github.com/mailcheck/mailcheck/reference/pop3server"
)

// pop3Fault sets up one POP3 fault of the embedded reference server.
type pop3Fault func(f *pop3server.Faults)

func (f pop3Fault) config() func(*reference.Config) {
	return func(c *reference.Config) { f(&c.POP3.Faults) }
}

func init() {
	for id, f := range map[string]pop3Fault{
		"pop3.greeting.ok":              func(f *pop3server.Faults) { f.GreetingText = "OK POP3 ready" },
		"pop3.status.case":              func(f *pop3server.Faults) { f.LowerCaseStatus = true },
		"pop3.multiline.terminated":     func(f *pop3server.Faults) { f.CAPAUnterminated = true },
		"pop3.noop.ok":                  func(f *pop3server.Faults) { f.NOOPErr = true },
		"pop3.capa.both-states":         func(f *pop3server.Faults) { f.CAPAOnlyBeforeLogin = true },
		"pop3.pipelining.order":         func(f *pop3server.Faults) { f.DropPipelinedInput = true },
		"pop3.state.stat-before-login":  func(f *pop3server.Faults) { f.STATBeforeLogin = true },
		"pop3.state.user-after-login":   func(f *pop3server.Faults) { f.USERAfterLogin = true },
		"pop3.auth.wrong-password":      func(f *pop3server.Faults) { f.AcceptAnyPassword = true },
		"pop3.auth.failure-stays":       func(f *pop3server.Faults) { f.FailedLoginEntersTransaction = true },
		"pop3.quit.before-login":        func(f *pop3server.Faults) { f.QUITBeforeLoginErr = true },
		"pop3.stat.syntax":              func(f *pop3server.Faults) { f.STATExtraText = true },
		"pop3.stat.agrees-list":         func(f *pop3server.Faults) { f.STATSizeOff = true },
		"pop3.list.matches-retr":        func(f *pop3server.Faults) { f.LISTSizeOff = true },
		"pop3.list.missing":             func(f *pop3server.Faults) { f.MissingMessageOK = true },
		"pop3.retr.missing":             func(f *pop3server.Faults) { f.MissingMessageOK = true },
		"pop3.dele.missing":             func(f *pop3server.Faults) { f.MissingMessageOK = true },
		"pop3.retr.byte-stuffing":       func(f *pop3server.Faults) { f.NoByteStuffing = true },
		"pop3.top.byte-stuffing":        func(f *pop3server.Faults) { f.NoByteStuffing = true },
		"pop3.top.lines":                func(f *pop3server.Faults) { f.TOPWholeMessage = true },
		"pop3.dele.marks":               func(f *pop3server.Faults) { f.DeletedStillListed = true },
		"pop3.dele.numbers-stable":      func(f *pop3server.Faults) { f.RenumberAfterDELE = true },
		"pop3.rset.unmarks":             func(f *pop3server.Faults) { f.RSETKeepsMarks = true },
		"pop3.update.drop-keeps":        func(f *pop3server.Faults) { f.DeleteOnDELE = true },
		"pop3.update.quit-deletes":      func(f *pop3server.Faults) { f.QUITKeepsMarked = true },
		"pop3.mode.download-and-delete": func(f *pop3server.Faults) { f.QUITKeepsMarked = true },
		"pop3.mode.download-and-keep":   func(f *pop3server.Faults) { f.RETRMarksDeleted = true },
		"pop3.uidl.syntax":              func(f *pop3server.Faults) { f.UIDLWithSpace = true },
		"pop3.uidl.unique":              func(f *pop3server.Faults) { f.UIDLSame = true },
		"pop3.uidl.stable":              func(f *pop3server.Faults) { f.UIDLPerSession = true },
		"pop3.lock.exclusive":           func(f *pop3server.Faults) { f.NoLock = true },
		"pop3.lock.in-use-code":         func(f *pop3server.Faults) { f.InUseWithoutCode = true },
		"pop3.stls.in-transaction":      func(f *pop3server.Faults) { f.STLSInTransaction = true },
		"pop3.stls.capa-after":          func(f *pop3server.Faults) { f.STLSStillOffered = true },
		"pop3.capa.syntax":              func(f *pop3server.Faults) { f.CAPAMisspelled = true },
		"pop3.resp-codes.syntax":        func(f *pop3server.Faults) { f.RespCodeAfterText = true },
	} {
		faultFor[id] = f
	}
}

func init() {
	// A server that keeps the stuffed dot alters the message between SMTP
	// and the mailbox, whichever protocol reads it back.
	keepDots := smtpWith(faultsmtp.KeepStuffedDots)
	faultFor["e2e.pop3.byte-identical"] = keepDots
	faultFor["e2e.imap.byte-identical"] = keepDots
}

// runPOP3 runs the POP3 suite and its end-to-end check against the
// embedded server set up by configure; results by check ID.
func runPOP3(t *testing.T, configure func(*reference.Config), opts Options) map[string]Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	opts.Only = []string{"pop3.*", "e2e.pop3.*"}
	report, err := RunEmbedded(ctx, opts, configure)
	if err != nil {
		t.Fatal(err)
	}
	return byID(report)
}

func byID(report *Report) map[string]Result {
	out := map[string]Result{}
	for _, r := range report.Checks {
		out[r.ID] = r
	}
	return out
}

// badVerdicts lists the results that fail, warn or error, but those named.
func badVerdicts(results map[string]Result, allowed map[string]bool) []string {
	var bad []string
	for id, r := range results {
		if !allowed[id] && (r.Status == Fail || r.Status == Warn || r.Status == Error) {
			bad = append(bad, fmt.Sprintf("%s: %s (%s)", id, r.Status, r.Message))
		}
	}
	sort.Strings(bad)
	return bad
}
