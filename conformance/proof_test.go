package conformance

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/reference"
	"github.com/mailcheck/mailcheck/reference/smtpserver"
)

// faultFor breaks the embedded reference server in exactly the way each
// check exists to catch. Every check in the catalogue must have one: a
// check that cannot be shown to fail is not done.
// smtpFault sets up one SMTP fault.
type smtpFault func(o *smtpserver.Options)

func (f smtpFault) config() func(*reference.Config) {
	return func(c *reference.Config) { f(&c.SMTP) }
}

// proof is how to break the embedded server for one check.
type proof interface {
	config() func(*reference.Config)
}

var faultFor = map[string]proof{
	"smtp.greeting.code":              smtpFault(func(o *smtpserver.Options) { o.Faults.GreetingCode = 200 }),
	"smtp.greeting.domain":            smtpFault(func(o *smtpserver.Options) { o.Faults.GreetingText = "Welcome! ESMTP ready" }),
	"smtp.reply.multiline":            smtpFault(func(o *smtpserver.Options) { o.Faults.MultilineWithoutHyphen = true }),
	"smtp.ehlo.accepted":              smtpFault(func(o *smtpserver.Options) { o.Faults.RefuseEHLO = true }),
	"smtp.helo.accepted":              smtpFault(func(o *smtpserver.Options) { o.Faults.RefuseHELO = true }),
	"smtp.command.case-insensitive":   smtpFault(func(o *smtpserver.Options) { o.Faults.CaseSensitiveVerbs = true }),
	"smtp.noop.ok":                    smtpFault(func(o *smtpserver.Options) { o.Faults.NOOPMissing = true }),
	"smtp.rset.ok":                    smtpFault(func(o *smtpserver.Options) { o.Faults.RSETMissing = true }),
	"smtp.vrfy.implemented":           smtpFault(func(o *smtpserver.Options) { o.Faults.VRFYMissing = true }),
	"smtp.quit.closes":                smtpFault(func(o *smtpserver.Options) { o.Faults.QUITStaysOpen = true }),
	"smtp.command.unknown":            smtpFault(func(o *smtpserver.Options) { o.Faults.UnknownCommand502 = true }),
	"smtp.postmaster.bare":            smtpFault(func(o *smtpserver.Options) { o.Faults.RefusePostmaster = true }),
	"smtp.postmaster.domain":          smtpFault(func(o *smtpserver.Options) { o.Faults.RefusePostmaster = true }),
	"smtp.sequence.rcpt-before-mail":  smtpFault(func(o *smtpserver.Options) { o.Faults.RcptWithoutMail = true }),
	"smtp.sequence.data-before-rcpt":  smtpFault(func(o *smtpserver.Options) { o.Faults.DataWithoutRcpt = true }),
	"smtp.sequence.rset-clears":       smtpFault(func(o *smtpserver.Options) { o.Faults.RSETKeeps = true }),
	"smtp.sequence.noop-keeps":        smtpFault(func(o *smtpserver.Options) { o.Faults.NOOPResets = true }),
	"smtp.sequence.ehlo-resets":       smtpFault(func(o *smtpserver.Options) { o.Faults.EHLOKeeps = true }),
	"smtp.mail.null-sender":           smtpFault(func(o *smtpserver.Options) { o.Faults.RefuseNullSender = true }),
	"smtp.mail.unknown-parameter":     smtpFault(func(o *smtpserver.Options) { o.Faults.IgnoreUnknownParameters = true }),
	"smtp.data.dot-termination":       smtpFault(func(o *smtpserver.Options) { o.Faults.DotLineEndsData = true }),
	"smtp.data.bare-lf-dot":           smtpFault(func(o *smtpserver.Options) { o.Faults.BareLFEndsData = true }),
	"smtp.data.lf-dot-crlf":           smtpFault(func(o *smtpserver.Options) { o.Faults.LFStartsLine = true }),
	"smtp.data.crlf-dot-lf":           endsDataAt("\r\n.\n"),
	"smtp.data.cr-dot-cr":             endsDataAt("\r.\r"),
	"smtp.data.crlf-dot-cr":           endsDataAt("\r\n.\r"),
	"smtp.data.cr-dot-crlf":           endsDataAt("\r.\r\n"),
	"smtp.data.lf-dot-cr":             endsDataAt("\n.\r"),
	"smtp.data.lf-lf-dot-crlf":        endsDataAt("\n\n.\r\n"),
	"smtp.data.crlf-nul-dot-crlf":     endsDataAt("\r\n\x00.\r\n"),
	"smtp.data.crlf-dot-nul-crlf":     endsDataAt("\r\n.\x00\r\n"),
	"smtp.data.crlf-nul-dot-cr":       endsDataAt("\r\n\x00.\r"),
	"smtp.data.crlf-nul-dot-lf":       endsDataAt("\r\n\x00.\n"),
	"smtp.reply.syntax":               smtpFault(func(o *smtpserver.Options) { o.Faults.ReplyLineEndLF = true }),
	"smtp.rcpt.unknown-user":          smtpFault(func(o *smtpserver.Options) { o.Faults.UnknownRecipient501 = true }),
	"smtp.data.transparency":          smtpFault(func(o *smtpserver.Options) { o.Faults.KeepStuffedDots = true }),
	"smtp.received.added":             smtpFault(func(o *smtpserver.Options) { o.Faults.NoReceivedHeader = true }),
	"smtp.8bit.without-8bitmime":      smtpFault(func(o *smtpserver.Options) { o.Faults.StripHighBit = true }),
	"smtp.8bitmime.preserved":         smtpFault(func(o *smtpserver.Options) { o.Faults.StripHighBit = true }),
	"smtp.command.8bit":               smtpFault(func(o *smtpserver.Options) { o.Faults.Accept8BitCommands = true }),
	"smtp.limit.command-line-512":     smtpFault(func(o *smtpserver.Options) { o.Faults.MaxCommandLine = 256 }),
	"smtp.limit.text-line-1000":       smtpFault(func(o *smtpserver.Options) { o.Faults.MaxTextLine = 512 }),
	"smtp.size.syntax":                smtpFault(func(o *smtpserver.Options) { o.Faults.SizeKeyword = "SIZE unlimited" }),
	"smtp.size.enforced":              smtpFault(func(o *smtpserver.Options) { o.Faults.IgnoreDeclaredSize = true }),
	"smtp.limit.recipients-100":       smtpFault(func(o *smtpserver.Options) { o.Faults.RecipientLimit = 50 }),
	"smtp.pipelining.order":           smtpFault(func(o *smtpserver.Options) { o.Faults.DropPipelinedInput = true }),
	"smtp.pipelining.after-reject":    smtpFault(func(o *smtpserver.Options) { o.Faults.DropInputAfterError = true }),
	"smtp.starttls.arguments":         smtpFault(func(o *smtpserver.Options) { o.Faults.STARTTLSIgnoresArguments = true }),
	"smtp.starttls.not-offered-after": smtpFault(func(o *smtpserver.Options) { o.Faults.STARTTLSStillOffered = true }),
	"smtp.starttls.no-injection":      smtpFault(func(o *smtpserver.Options) { o.Faults.STARTTLSRunsPlaintext = true }),
	"smtp.auth.success":               smtpFault(func(o *smtpserver.Options) { o.Faults.AuthRefusesAll = true }),
	"smtp.auth.bad-credentials":       smtpFault(func(o *smtpserver.Options) { o.Faults.AuthAcceptsAll = true }),
	"smtp.auth.twice":                 smtpFault(func(o *smtpserver.Options) { o.Faults.AuthTwice = true }),
	"smtp.auth.in-transaction":        smtpFault(func(o *smtpserver.Options) { o.Faults.AuthInTransaction = true }),
	"smtp.auth.cancel":                smtpFault(func(o *smtpserver.Options) { o.Faults.AuthCancelCode = 535 }),
	"smtp.auth.bad-base64":            smtpFault(func(o *smtpserver.Options) { o.Faults.AuthBadBase64Code = 535 }),
	"smtp.auth.not-before-tls":        smtpFault(func(o *smtpserver.Options) { o.InsecureAuth = true }),
	"smtp.enhanced.present":           smtpFault(func(o *smtpserver.Options) { o.Faults.OmitEnhancedCodes = true }),
	"smtp.enhanced.class":             smtpFault(func(o *smtpserver.Options) { o.Faults.EnhancedClassMismatch = true }),
	"smtp.smtputf8.implies-8bitmime":  smtpFault(func(o *smtpserver.Options) { o.Faults.AdvertiseSMTPUTF8, o.Faults.HideEightBitMIME = true, true }),
	"smtp.ehlo.keywords":              smtpFault(func(o *smtpserver.Options) { o.Faults.BadEHLOKeyword = true }),
	"smtp.relay.refused":              smtpFault(func(o *smtpserver.Options) { o.Faults.OpenRelay = true }),
}

// endsDataAt is a server that also ends DATA at seq: the receiving half of
// one SMTP smuggling variant.
func endsDataAt(seq string) smtpFault {
	return func(o *smtpserver.Options) { o.Faults.EndOfData = seq }
}

// passWith sets up the reference server for checks it would otherwise skip.
var passWith = map[string]func(o *smtpserver.Options){
	// The reference does not offer SMTPUTF8; offering it beside 8BITMIME is
	// the correct case this check must pass.
	"smtp.smtputf8.implies-8bitmime": func(o *smtpserver.Options) { o.Faults.AdvertiseSMTPUTF8 = true },
}

// unanswering are the checks whose fault is a server that never answers
// what the check sent: only a wait past the read timeout shows it, so
// their proofs wait a short one (silentReadTimeout) rather than the RFC
// minutes (engine.Phase).
var unanswering = map[string]bool{
	"smtp.pipelining.order":        true,
	"smtp.pipelining.after-reject": true,
	"pop3.pipelining.order":        true,
	"pop3.multiline.terminated":    true,
}

// silentReadTimeout is the read timeout of a proof against a server that
// never answers.
const silentReadTimeout = 2 * time.Second

func runOnly(t *testing.T, id string, configure func(*reference.Config)) Result {
	return runOnlyWith(t, id, configure, Options{})
}

func runOnlyWith(t *testing.T, id string, configure func(*reference.Config), opts Options) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts.Only = []string{id}
	report, err := RunEmbedded(ctx, opts, configure)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Checks) != 1 {
		t.Fatalf("%d results for %s", len(report.Checks), id)
	}
	return report.Checks[0]
}

func transcriptOf(r Result) string {
	var b strings.Builder
	for _, l := range r.Transcript {
		b.WriteString("  " + string(l.Dir) + " " + l.Text + "\n")
	}
	return b.String()
}

// TestEveryCheckFailsAgainstItsFault: each check, against a reference
// server with its one fault, gives fail (MUST) or warn (SHOULD/MAY).
func TestEveryCheckFailsAgainstItsFault(t *testing.T) {
	for _, c := range Catalogue() {
		if c.Protocol == "imap" && !strings.HasPrefix(c.ID, "e2e.") {
			continue // proven in imap_proof_test.go
		}
		fault, ok := faultFor[c.ID]
		if !ok {
			t.Errorf("%s has no fault proving it can fail", c.ID)
			continue
		}
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			want := Fail
			if c.Level != Must {
				want = Warn
			}
			var opts Options
			if unanswering[c.ID] {
				opts.ReadTimeout = silentReadTimeout
			}
			if r := runOnlyWith(t, c.ID, fault.config(), opts); r.Status != want {
				t.Errorf("against its fault: %s (%s), want %s\n%s", r.Status, r.Message, want, transcriptOf(r))
			}
		})
	}
}

// TestEveryCheckPassesAgainstReference: the whole catalogue passes against
// the correct reference server; checks it would skip pass in the setup of
// passWith.
func TestEveryCheckPassesAgainstReference(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	report, err := RunEmbedded(ctx, Options{Skip: []string{"imap.*"}}, nil)
	if report != nil && report.Summary[Pass] < 80 {
		t.Errorf("only %d checks passed", report.Summary[Pass])
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SMTP and POP3 suites: %d checks in %v", len(report.Checks), time.Since(start))
	for _, r := range report.Checks {
		if _, skips := passWith[r.ID]; skips && r.Status == Skip {
			continue
		}
		if r.Status != Pass {
			t.Errorf("%s: %s (%s)\n%s", r.ID, r.Status, r.Message, transcriptOf(r))
		}
	}
	for id, setup := range passWith {
		if r := runOnly(t, id, smtpFault(setup).config()); r.Status != Pass {
			t.Errorf("%s with %s: %s (%s)", id, "its passing setup", r.Status, r.Message)
		}
	}
}
