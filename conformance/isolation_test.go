package conformance

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/mailcheck/mailcheck/internal/faultpop3"
	"github.com/mailcheck/mailcheck/reference"
)

// A fault must fail only the checks about it: a check that fails for what
// another check owns is a cascade, and a cascade is a false verdict on a
// server with one fault. TestFaultIsolation runs the whole catalogue
// against the reference server with each named fault of the proof tables
// (faultFor, imapFaultFor) and asserts that the checks mapped to that
// fault fail (or warn), and that no other check fails, warns or errors.
// On failure it prints the matrix: fault, check, verdict, message.

// namedFault is one fault of the proof tables with every check it proves.
type namedFault struct {
	name   string   // the first check ID (sorted) that names it
	checks []string // the checks it proves
	// run runs the catalogue against a server with the fault.
	run func(t *testing.T) *Report
}

// isolationExceptions lists, per check proven by a fault, other checks the
// fault may fail, and why that is not a cascade: the fault breaks their
// subject too.
var isolationExceptions = map[string]map[string]string{
	// End-of-data variants: a server that ends DATA at one false end ends
	// it at every sequence holding that false end (or the line it treats
	// as "."): one hole, seen through several sequences.
	"smtp.data.bare-lf-dot": {
		"smtp.data.crlf-dot-lf":    `the fault ends DATA at "\n.\n", which "\r\n.\n" holds`,
		"smtp.data.lf-dot-crlf":    `the fault takes a bare LF for a line end, so "\n.\r\n" is a "." line after a line end`,
		"smtp.data.lf-lf-dot-crlf": `the fault takes a bare LF for a line end, so "\n\n.\r\n" ends with a "." line`,
	},
	"smtp.data.lf-dot-cr": {
		"smtp.data.crlf-dot-cr":    `"\r\n.\r" holds "\n.\r"`,
		"smtp.data.lf-dot-crlf":    `"\n.\r\n" holds "\n.\r"`,
		"smtp.data.lf-lf-dot-crlf": `"\n\n.\r\n" holds "\n.\r"`,
	},
	"smtp.data.lf-dot-crlf": {
		"smtp.data.lf-lf-dot-crlf": `"\n\n.\r\n" holds "\n.\r\n"`,
	},
	"smtp.data.cr-dot-cr": {
		"smtp.data.cr-dot-crlf": `"\r.\r\n" holds "\r.\r"`,
	},
	"smtp.data.crlf-nul-dot-cr": {
		"smtp.data.crlf-nul-dot-crlf": `"\r\n\x00.\r\n" holds "\r\n\x00.\r"`,
	},
	// A server that ends DATA at any line starting with "." cuts every
	// message with such a line: the false ends that start a line with "."
	// are its hole too, and a message cut short is what the content checks
	// exist to catch.
	"smtp.data.dot-termination": {
		"smtp.data.crlf-dot-cr":       `"\r\n.\r" starts a line with "."`,
		"smtp.data.crlf-dot-lf":       `"\r\n.\n" starts a line with "."`,
		"smtp.data.crlf-dot-nul-crlf": `"\r\n.\x00\r\n" starts a line with "."`,
		"smtp.data.transparency":      "its message holds lines starting with \".\", and arrives cut short: dot handling is its subject",
		"e2e.pop3.byte-identical":     "the end-to-end message holds lines starting with \".\" and arrives cut short: an altered message is its subject",
		"e2e.imap.byte-identical":     "the end-to-end message holds lines starting with \".\" and arrives cut short: an altered message is its subject",
	},
	// The end-to-end checks judge the whole path, SMTP in and POP3 or
	// IMAP out: a server on it that alters the message fails them.
	"smtp.8bit.without-8bitmime": {
		"e2e.pop3.byte-identical": "the SMTP server strips the 8th bit of the end-to-end message's 8-bit line",
		"e2e.imap.byte-identical": "the SMTP server strips the 8th bit of the end-to-end message's 8-bit line",
	},
	"pop3.retr.byte-stuffing": {
		"e2e.pop3.byte-identical": "the end-to-end path ends in a POP3 RETR: without byte-stuffing the message's \".\" line ends it early, and an altered message is that check's subject",
		"smtp.data.transparency":  "the read-back path is POP3: its control message holds no dot line (one would hide the SMTP server's own dot-stuffing faults), so a read-back that does not byte-stuff is seen only by the message with dot lines",
	},
}

// sameProof reports whether two entries of faultFor break the server
// alike: the same SMTP fault (a proxy or a backend wrapper, one value per
// fault), or configurations alike.
func sameProof(a, b proof) bool {
	fa, aIsSMTP := a.(smtpFault)
	fb, bIsSMTP := b.(smtpFault)
	if aIsSMTP || bIsSMTP {
		return aIsSMTP && bIsSMTP && fa.fault == fb.fault
	}
	var ca, cb reference.Config
	a.config()(&ca)
	b.config()(&cb)
	return reflect.DeepEqual(ca, cb)
}

// smtpAndPOP3Faults groups faultFor by sameProof: entries that break the
// server alike are one fault.
func smtpAndPOP3Faults() []*namedFault {
	ids := sortedKeys(faultFor)
	type group struct {
		proof proof
		fault *namedFault
	}
	var groups []*group
next:
	for _, id := range ids {
		if _, ok := faultFor[id].(pop3Proof); ok {
			continue // pop3Faults groups them
		}
		for _, g := range groups {
			if sameProof(g.proof, faultFor[id]) {
				g.fault.checks = append(g.fault.checks, id)
				continue next
			}
		}
		groups = append(groups, &group{faultFor[id], embeddedFault(id, faultFor[id].config())})
	}
	var out []*namedFault
	for _, g := range groups {
		out = append(out, g.fault)
	}
	return out
}

// pop3Faults groups the POP3 proofs of faultFor by their fault: a POP3
// fault is a proxy and a backend wrapper that the configuration only
// points to, so entries with the same fault are one.
func pop3Faults() []*namedFault {
	byFault := map[*faultpop3.Fault]*namedFault{}
	var out []*namedFault
	for _, id := range sortedKeys(faultFor) {
		p, ok := faultFor[id].(pop3Proof)
		switch {
		case !ok:
		case byFault[p.fault] != nil:
			byFault[p.fault].checks = append(byFault[p.fault].checks, id)
		default:
			byFault[p.fault] = embeddedFault(id, p.config())
			out = append(out, byFault[p.fault])
		}
	}
	return out
}

// embeddedFault runs the catalogue against the embedded server set up by
// configure, proving check id (and those added to it later).
func embeddedFault(id string, configure func(*reference.Config)) *namedFault {
	nf := &namedFault{name: id, checks: []string{id}}
	nf.run = func(t *testing.T) *Report {
		var opts Options
		for _, c := range nf.checks {
			if unanswering[c] {
				// A server that never answers is seen only past the
				// read timeout: a short one, not the RFC minutes.
				opts.ReadTimeout = silentReadTimeout
			}
		}
		report, err := RunEmbedded(t.Context(), opts, configure)
		if err != nil {
			t.Fatal(err)
		}
		return report
	}
	return nf
}

// imapFaults groups imapFaultFor by sameFault: the same backend faults or
// the same proxy. An IMAP fault lives in the IMAP server (or a proxy in
// front of it), so the IMAP suite is the catalogue it can affect; the
// whole catalogue would only add SMTP and POP3 runs against an unchanged
// server.
func imapFaults() []*namedFault {
	var out []*namedFault
	var proofs []imapProof
next:
	for _, id := range sortedKeys(imapFaultFor) {
		p := imapFaultFor[id]
		for i, q := range proofs {
			if sameFault(p, q) {
				out[i].checks = append(out[i].checks, id)
				continue next
			}
		}
		proofs = append(proofs, p)
		out = append(out, &namedFault{name: id, checks: []string{id}, run: func(t *testing.T) *Report {
			target, opts, srv := startIMAPServer(t, p)
			t.Cleanup(func() {
				if left := leftovers(t, srv); len(left) > 0 {
					t.Errorf("mailboxes left behind: %v", left)
				}
			})
			return runIMAP(t, target, opts)
		}})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	var ids []string
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// isolationLine is one unexpected verdict of the matrix.
type isolationLine struct {
	fault, check string
	status       Status
	message      string
}

func TestFaultIsolation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the catalogue once per fault")
	}
	faults := append(append(smtpAndPOP3Faults(), pop3Faults()...), imapFaults()...)
	var (
		mu       sync.Mutex
		unwanted []isolationLine
		isolated int
		excepted []string
	)
	t.Run("fault", func(t *testing.T) {
		for _, f := range faults {
			t.Run(f.name, func(t *testing.T) {
				t.Parallel()
				bad, excuses := unexpected(f, f.run(t))
				mu.Lock()
				defer mu.Unlock()
				excepted = append(excepted, excuses...)
				if len(bad) == 0 && len(excuses) == 0 {
					isolated++
				}
				if len(bad) == 0 {
					return
				}
				unwanted = append(unwanted, bad...)
				t.Errorf("fault %s (proving %s) also gives:\n%s", f.name, strings.Join(f.checks, ", "), matrix(bad))
			})
		}
	})
	sort.Strings(excepted)
	t.Logf("faults %d, failing exactly their own checks %d; named exceptions %d:\n  %s", len(faults), isolated, len(excepted), strings.Join(excepted, "\n  "))
	if len(unwanted) > 0 {
		sort.Slice(unwanted, func(i, j int) bool {
			a, b := unwanted[i], unwanted[j]
			return a.fault < b.fault || a.fault == b.fault && a.check < b.check
		})
		t.Errorf("isolation matrix (fault, a check it should not fail):\n%s", matrix(unwanted))
	}
}

// unexpected lists the verdicts of report that f should not cause: a
// check of its own that does not fail, or another check that fails, warns
// or errors (unless an exception names it).
// It also lists the exceptions that applied ("fault → check: why").
func unexpected(f *namedFault, report *Report) (bad []isolationLine, excuses []string) {
	for _, r := range report.Checks {
		own := slices.Contains(f.checks, r.ID)
		failing := r.Status == Fail || r.Status == Warn || r.Status == Error
		why, excused := excuse(f, r.ID)
		switch {
		case own && r.Status != Fail && r.Status != Warn:
			bad = append(bad, isolationLine{f.name, r.ID + " (own)", r.Status, r.Message})
		case own:
		case failing && excused:
			excuses = append(excuses, f.name+" → "+r.ID+": "+why)
		case failing:
			bad = append(bad, isolationLine{f.name, r.ID, r.Status, r.Message})
		}
	}
	return bad, excuses
}

func excuse(f *namedFault, check string) (string, bool) {
	for _, id := range f.checks {
		if why, ok := isolationExceptions[id][check]; ok {
			return why, true
		}
	}
	return "", false
}

func matrix(lines []isolationLine) string {
	var b strings.Builder
	for _, l := range lines {
		msg := l.message
		if len(msg) > 160 {
			msg = msg[:160] + "…"
		}
		fmt.Fprintf(&b, "  %-40s %-42s %-5s %s\n", l.fault, l.check, l.status, msg)
	}
	return b.String()
}
