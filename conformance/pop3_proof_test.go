package conformance

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/faultpop3"
	"github.com/mailcheck/mailcheck/internal/faultsmtp"
	"github.com/mailcheck/mailcheck/reference"
)

// pop3Proof breaks the embedded reference server's POP3 in one way: the
// correct server behind faultpop3's proxy and, for faults of the
// maildrop, its backend wrapper. Proofs of one fault share its pointer.
type pop3Proof struct{ fault *faultpop3.Fault }

func (p pop3Proof) config() func(*reference.Config) { return p.fault.Configure }

func init() {
	for id, f := range map[string]*faultpop3.Fault{
		"pop3.greeting.ok":              faultpop3.Greeting("OK POP3 ready"),
		"pop3.status.case":              faultpop3.LowerCaseStatus,
		"pop3.multiline.terminated":     faultpop3.CAPAUnterminated,
		"pop3.noop.ok":                  faultpop3.NOOPErr,
		"pop3.capa.both-states":         faultpop3.CAPAOnlyBeforeLogin,
		"pop3.pipelining.order":         faultpop3.DropPipelinedInput,
		"pop3.state.stat-before-login":  faultpop3.STATBeforeLogin,
		"pop3.state.user-after-login":   faultpop3.USERAfterLogin,
		"pop3.auth.wrong-password":      faultpop3.AcceptAnyPassword,
		"pop3.auth.failure-stays":       faultpop3.FailedLoginEntersTransaction,
		"pop3.quit.before-login":        faultpop3.QUITBeforeLoginErr,
		"pop3.stat.syntax":              faultpop3.STATExtraText,
		"pop3.stat.agrees-list":         faultpop3.STATSizeOff,
		"pop3.list.matches-retr":        faultpop3.LISTSizeOff,
		"pop3.list.missing":             faultpop3.MissingMessageOK,
		"pop3.retr.missing":             faultpop3.MissingMessageOK,
		"pop3.dele.missing":             faultpop3.MissingMessageOK,
		"pop3.retr.byte-stuffing":       faultpop3.NoByteStuffing,
		"pop3.top.byte-stuffing":        faultpop3.NoByteStuffing,
		"pop3.top.lines":                faultpop3.TOPWholeMessage,
		"pop3.dele.marks":               faultpop3.DeletedStillListed,
		"pop3.dele.numbers-stable":      faultpop3.RenumberAfterDELE,
		"pop3.rset.unmarks":             faultpop3.RSETKeepsMarks,
		"pop3.update.drop-keeps":        faultpop3.DeleteOnDELE,
		"pop3.update.quit-deletes":      faultpop3.QUITKeepsMarked,
		"pop3.mode.download-and-delete": faultpop3.QUITKeepsMarked,
		"pop3.mode.download-and-keep":   faultpop3.RETRMarksDeleted,
		"pop3.uidl.syntax":              faultpop3.UIDLWithSpace,
		"pop3.uidl.unique":              faultpop3.UIDLSame,
		"pop3.uidl.stable":              faultpop3.UIDLPerSession,
		"pop3.lock.exclusive":           faultpop3.NoLock,
		"pop3.lock.in-use-code":         faultpop3.InUseWithoutCode,
		"pop3.stls.in-transaction":      faultpop3.STLSInTransaction,
		"pop3.stls.capa-after":          faultpop3.STLSStillOffered,
		"pop3.capa.syntax":              faultpop3.CAPAMisspelled,
		"pop3.resp-codes.syntax":        faultpop3.RespCodeAfterText,
	} {
		faultFor[id] = pop3Proof{f}
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

// TestPOP3FaultProxyChangesNoVerdict: the POP3 suite, its end-to-end
// check and the read-back through faultpop3's proxy, with no fault, pass
// as against the server itself, so that what fails against a fault is
// the fault's doing.
func TestPOP3FaultProxyChangesNoVerdict(t *testing.T) {
	results := runPOP3(t, faultpop3.None.Configure, Options{})
	for _, bad := range badVerdicts(results, nil) {
		t.Errorf("through the proxy: %s", bad)
	}
	for id, r := range results {
		if r.Status != Pass {
			t.Errorf("%s: %s (%s), want pass as against the server itself", id, r.Status, r.Message)
		}
	}
}
