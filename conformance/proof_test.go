package conformance

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/faultsmtp"
	"github.com/mailcheck/mailcheck/reference"
	"github.com/mailcheck/mailcheck/reference/smtpserver"
)

// faultFor breaks the embedded reference server in exactly the way each
// check exists to catch. Every check in the catalogue must have one: a
// check that cannot be shown to fail is not done.

// smtpFault is one SMTP fault, re-created in front of the server or around
// its backend (internal/faultsmtp); two entries share a fault when they
// share the value.
type smtpFault struct{ fault *faultsmtp.Fault }

func (f smtpFault) config() func(*reference.Config) { return f.fault.Configure }

// smtpWith proves a check with the SMTP fault f.
func smtpWith(f *faultsmtp.Fault) smtpFault { return smtpFault{f} }

// smtpOption sets up the server with an option it has, which a check
// judges (clear-text AUTH offered, say): a setting, not a fault of its
// code.
type smtpOption func(o *smtpserver.Options)

func (f smtpOption) config() func(*reference.Config) {
	return func(c *reference.Config) { f(&c.SMTP) }
}

// proof is how to break the embedded server for one check.
type proof interface {
	config() func(*reference.Config)
}

var faultFor = map[string]proof{
	"smtp.greeting.code":              smtpWith(faultsmtp.GreetingCode(200)),
	"smtp.greeting.domain":            smtpWith(faultsmtp.GreetingText("Welcome! ESMTP ready")),
	"smtp.reply.multiline":            smtpWith(faultsmtp.MultilineWithoutHyphen),
	"smtp.ehlo.accepted":              smtpWith(faultsmtp.RefuseEHLO),
	"smtp.helo.accepted":              smtpWith(faultsmtp.RefuseHELO),
	"smtp.command.case-insensitive":   smtpWith(faultsmtp.CaseSensitiveVerbs),
	"smtp.noop.ok":                    smtpWith(faultsmtp.NOOPMissing),
	"smtp.rset.ok":                    smtpWith(faultsmtp.RSETMissing),
	"smtp.vrfy.implemented":           smtpWith(faultsmtp.VRFYMissing),
	"smtp.quit.closes":                smtpWith(faultsmtp.QUITStaysOpen),
	"smtp.command.unknown":            smtpWith(faultsmtp.UnknownCommand502),
	"smtp.postmaster.bare":            smtpWith(faultsmtp.RefusePostmaster),
	"smtp.postmaster.domain":          smtpWith(faultsmtp.RefusePostmaster),
	"smtp.sequence.rcpt-before-mail":  smtpWith(faultsmtp.RcptWithoutMail),
	"smtp.sequence.data-before-rcpt":  smtpWith(faultsmtp.DataWithoutRcpt),
	"smtp.sequence.rset-clears":       smtpWith(faultsmtp.RSETKeeps),
	"smtp.sequence.noop-keeps":        smtpWith(faultsmtp.NOOPResets),
	"smtp.sequence.ehlo-resets":       smtpWith(faultsmtp.EHLOKeeps),
	"smtp.mail.null-sender":           smtpWith(faultsmtp.RefuseNullSender),
	"smtp.mail.unknown-parameter":     smtpWith(faultsmtp.IgnoreUnknownParameters),
	"smtp.data.dot-termination":       smtpWith(faultsmtp.DotLineEndsData),
	"smtp.data.bare-lf-dot":           smtpWith(faultsmtp.BareLFEndsData),
	"smtp.data.lf-dot-crlf":           smtpWith(faultsmtp.LFStartsLine),
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
	"smtp.reply.syntax":               smtpWith(faultsmtp.ReplyLineEndLF),
	"smtp.rcpt.unknown-user":          smtpWith(faultsmtp.UnknownRecipient501),
	"smtp.data.transparency":          smtpWith(faultsmtp.KeepStuffedDots),
	"smtp.received.added":             smtpWith(faultsmtp.NoReceivedHeader),
	"smtp.8bit.without-8bitmime":      smtpWith(faultsmtp.StripHighBit),
	"smtp.8bitmime.preserved":         smtpWith(faultsmtp.StripHighBit),
	"smtp.command.8bit":               smtpWith(faultsmtp.Accept8BitCommands),
	"smtp.limit.command-line-512":     smtpWith(faultsmtp.MaxCommandLine(256)),
	"smtp.limit.text-line-1000":       smtpWith(faultsmtp.MaxTextLine(512)),
	"smtp.size.syntax":                smtpWith(faultsmtp.SizeKeyword("SIZE unlimited")),
	"smtp.size.enforced":              smtpWith(faultsmtp.IgnoreDeclaredSize),
	"smtp.limit.recipients-100":       smtpWith(faultsmtp.RecipientLimit(50)),
	"smtp.pipelining.order":           smtpWith(faultsmtp.DropPipelinedInput),
	"smtp.pipelining.after-reject":    smtpWith(faultsmtp.DropInputAfterError),
	"smtp.starttls.arguments":         smtpWith(faultsmtp.STARTTLSIgnoresArguments),
	"smtp.starttls.not-offered-after": smtpWith(faultsmtp.STARTTLSStillOffered),
	"smtp.starttls.no-injection":      smtpWith(faultsmtp.STARTTLSRunsPlaintext),
	"smtp.auth.success":               smtpWith(faultsmtp.AuthRefusesAll),
	"smtp.auth.bad-credentials":       smtpWith(faultsmtp.AuthAcceptsAll),
	"smtp.auth.twice":                 smtpWith(faultsmtp.AuthTwice),
	"smtp.auth.in-transaction":        smtpWith(faultsmtp.AuthInTransaction),
	"smtp.auth.cancel":                smtpWith(faultsmtp.AuthCancelCode(535)),
	"smtp.auth.bad-base64":            smtpWith(faultsmtp.AuthBadBase64Code(535)),
	"smtp.auth.not-before-tls":        smtpOption(func(o *smtpserver.Options) { o.InsecureAuth = true }),
	"smtp.enhanced.present":           smtpWith(faultsmtp.OmitEnhancedCodes),
	"smtp.enhanced.class":             smtpWith(faultsmtp.EnhancedClassMismatch),
	"smtp.smtputf8.implies-8bitmime":  smtpWith(faultsmtp.SMTPUTF8Without8BITMIME),
	"smtp.ehlo.keywords":              smtpWith(faultsmtp.BadEHLOKeyword),
	"smtp.relay.refused":              smtpWith(faultsmtp.OpenRelay),
}

// endsDataAt is a server that also ends DATA at seq: the receiving half of
// one SMTP smuggling variant.
func endsDataAt(seq string) smtpFault { return smtpWith(faultsmtp.EndOfData(seq)) }

// passWith sets up the reference server for checks it would otherwise skip.
var passWith = map[string]smtpFault{
	// The reference does not offer SMTPUTF8; offering it beside 8BITMIME is
	// the correct case this check must pass.
	"smtp.smtputf8.implies-8bitmime": smtpWith(faultsmtp.AdvertiseSMTPUTF8),
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
		if r := runOnly(t, id, setup.config()); r.Status != Pass {
			t.Errorf("%s with %s: %s (%s)", id, "its passing setup", r.Status, r.Message)
		}
	}
}
