package conformance

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/faultsmtp"
	"github.com/mailcheck/mailcheck/internal/loopback"
)

// Tests of issue 13's classes for SMTP: each runs the SMTP catalogue
// against a server with one allowed behaviour or one fault and asserts
// the verdict lands on the check about it and nowhere else.

// runSMTP runs the SMTP catalogue against the reference server with the
// fault f.
func runSMTP(t *testing.T, f *faultsmtp.Fault) map[string]Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	report, err := RunEmbedded(ctx, Options{Only: []string{"smtp.*"}}, f.Configure)
	if err != nil {
		t.Fatal(err)
	}
	return byID(report)
}

// onlyFailing asserts that exactly the checks in want fail (or warn) and
// that none errors.
func onlyFailing(t *testing.T, results map[string]Result, want ...string) {
	t.Helper()
	for id, r := range results {
		wanted := false
		for _, w := range want {
			wanted = wanted || w == id
		}
		switch {
		case r.Status == Error:
			t.Errorf("%s: error (%s)\n%s", id, r.Message, transcriptOf(r))
		case wanted && r.Status != Fail && r.Status != Warn:
			t.Errorf("%s: %s (%s), want it to fail", id, r.Status, r.Message)
		case !wanted && (r.Status == Fail || r.Status == Warn):
			t.Errorf("%s: %s (%s): only %v may fail\n%s", id, r.Status, r.Message, want, transcriptOf(r))
		}
	}
}

// Class 3: a server refusing the bare postmaster fails the postmaster
// check, and no check that merely needed a recipient.
func TestRefusedPostmasterFailsOnlyPostmasterChecks(t *testing.T) {
	results := runSMTP(t, faultsmtp.RefusePostmaster)
	onlyFailing(t, results, "smtp.postmaster.bare", "smtp.postmaster.domain")
}

// Class 3: faults of a command that other checks use as a step fail only
// the check about that command (the sequence checks judge a reset by DATA,
// not by RCPT, which a server taking RCPT without MAIL would accept; the
// pipelined groups only need RSET and NOOP answered).
func TestCommandFaultsFailOnlyTheirCheck(t *testing.T) {
	for _, c := range []struct {
		check string
		fault *faultsmtp.Fault
	}{
		{"smtp.sequence.rcpt-before-mail", faultsmtp.RcptWithoutMail},
		{"smtp.noop.ok", faultsmtp.NOOPMissing},
		{"smtp.rset.ok", faultsmtp.RSETMissing},
		{"smtp.ehlo.accepted", faultsmtp.RefuseEHLO},
		{"smtp.mail.null-sender", faultsmtp.RefuseNullSender},
	} {
		t.Run(c.check, func(t *testing.T) { onlyFailing(t, runSMTP(t, c.fault), c.check) })
	}
}

// Class 3: NOOP arguments refused (RFC 5321 §4.1.1.9 does not require
// taking them) do not fail the 512-octet line check, which carries its
// line on another command.
func TestRefusedNOOPArgumentsFailNothing(t *testing.T) {
	results := runSMTP(t, faultsmtp.RefuseNOOPArguments)
	onlyFailing(t, results)
	if r := results["smtp.limit.command-line-512"]; r.Status != Pass {
		t.Errorf("smtp.limit.command-line-512: %s (%s), want pass on another carrier", r.Status, r.Message)
	}
}

// Class 6: a second EHLO refused with 503 is allowed (RFC 5321 §4.1.4
// resets only when a later EHLO "is acceptable"): ehlo-resets skips.
func TestRefusedSecondEHLOSkips(t *testing.T) {
	results := runSMTP(t, faultsmtp.RefuseSecondEHLO)
	onlyFailing(t, results)
	r := results["smtp.sequence.ehlo-resets"]
	if r.Status != Skip || !strings.Contains(r.Message, "precondition") || !strings.Contains(r.Message, "503") {
		t.Errorf("smtp.sequence.ehlo-resets: %s (%s), want a precondition skip quoting the 503", r.Status, r.Message)
	}
}

// Class 8: replies ending in a bare LF fail the reply syntax check, which
// quotes the line and the rule, and nothing else.
func TestMalformedRepliesFailReplySyntax(t *testing.T) {
	results := runSMTP(t, faultsmtp.ReplyLineEndLF)
	onlyFailing(t, results, "smtp.reply.syntax")
	if r := results["smtp.reply.syntax"]; !strings.Contains(r.Message, `\n"`) || !strings.Contains(r.Message, "RFC 5321 §4.2") {
		t.Errorf("smtp.reply.syntax says %q: want the line and the rule", r.Message)
	}
}

// Class 8: a check that fails on a malformed reply says it was malformed.
func TestFailureOnMalformedReplySaysMalformed(t *testing.T) {
	r := runOnly(t, "smtp.postmaster.bare", faultsmtp.Join(faultsmtp.RefusePostmaster, faultsmtp.ReplyLineEndLF).Configure)
	if r.Status != Fail || !strings.Contains(r.Message, "malformed") {
		t.Errorf("%s (%s), want a failure that calls the reply malformed", r.Status, r.Message)
	}
}

// Class 8: an enhanced code after the text is malformed, not missing.
func TestEnhancedCodeAfterTextIsMalformed(t *testing.T) {
	srv := startLenientSMTP(t, lenientConfig{enhanced: true, codeAfterText: true, pipelining: true})
	r := runFake(t, srv, "smtp.enhanced.present")["smtp.enhanced.present"]
	if r.Status != Fail || !strings.Contains(r.Message, "malformed") || strings.Contains(r.Message, "no enhanced") {
		t.Errorf("%s (%s), want a failure that calls the code malformed", r.Status, r.Message)
	}
}

// Class 5: a server without PIPELINING that ends DATA at a bare-LF dot and
// hangs up on input sent ahead of its reply ("pipelining not supported").
// Every end-of-data check reaches a verdict; bare-lf-dot (and the variant
// holding "\n.\n") fail with the reply as evidence; the others pass.
func TestSmugglingWithoutPipeliningReachesVerdicts(t *testing.T) {
	srv := startLenientSMTP(t, lenientConfig{})
	results := runFake(t, srv, "smtp.data.*")
	if len(results) < 10 {
		t.Errorf("%d end-of-data checks, want at least 10", len(results))
	}
	for id, r := range results {
		if !strings.HasPrefix(id, "smtp.data.") || id == "smtp.data.dot-termination" || id == "smtp.data.transparency" {
			continue
		}
		wantFail := id == "smtp.data.bare-lf-dot" || id == "smtp.data.crlf-dot-lf"
		switch {
		case wantFail && (r.Status != Fail || !strings.Contains(r.Message, "250")):
			t.Errorf("%s: %s (%s), want fail quoting the early reply\n%s", id, r.Status, r.Message, transcriptOf(r))
		case !wantFail && r.Status != Pass:
			t.Errorf("%s: %s (%s), want pass\n%s", id, r.Status, r.Message, transcriptOf(r))
		}
	}
	if n := srv.earlyInput(); n > 0 {
		t.Errorf("%d times the suite wrote past a reply it was owed, without PIPELINING", n)
	}
}

func runFake(t *testing.T, srv *lenientSMTP, only string) map[string]Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	report, err := Run(ctx, []string{"smtp://" + srv.addr}, "", Options{Rcpt: "bob@fake.test", Only: []string{only}})
	if err != nil {
		t.Fatal(err)
	}
	return byID(report)
}

// lenientConfig scripts a lenientSMTP.
type lenientConfig struct {
	pipelining, enhanced bool
	// codeAfterText puts the enhanced code at the end of refusals.
	codeAfterText bool
	// strayBeforeNOOP answers NOOP with an extra reply first, in the same
	// write: the late answer to input the server read as a command.
	strayBeforeNOOP bool
	// rejectBareLF ends DATA only at CRLF.CRLF and, when the message held
	// a bare CR or LF, answers the end "521" and hangs up, as Postfix's
	// smtpd_forbid_bare_newline = reject does.
	rejectBareLF bool
}

// lenientSMTP is a fake SMTP server of the kind issue 13 met: it ends DATA
// at a bare-LF "\n.\n" as well as at CRLF.CRLF, and without PIPELINING it
// answers input that arrived ahead of a reply "pipelining not supported"
// and hangs up.
type lenientSMTP struct {
	addr  string
	cfg   lenientConfig
	mu    sync.Mutex
	early int
}

func (s *lenientSMTP) earlyInput() int { s.mu.Lock(); defer s.mu.Unlock(); return s.early }

func startLenientSMTP(t *testing.T, cfg lenientConfig) *lenientSMTP {
	s := &lenientSMTP{cfg: cfg}
	s.addr = loopback.Serve(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(30 * time.Second))
		s.serve(c)
	})
	return s
}

func (s *lenientSMTP) serve(c net.Conn) {
	r := bufio.NewReader(c)
	write := func(line string) { c.Write([]byte(line + "\r\n")) }
	refuse := func(code, enh, text string) {
		switch {
		case !s.cfg.enhanced:
			write(code + " " + text)
		case s.cfg.codeAfterText:
			write(code + " " + text + " " + enh)
		default:
			write(code + " " + enh + " " + text)
		}
	}
	ok := func() {
		if s.cfg.enhanced {
			write("250 2.0.0 OK")
			return
		}
		write("250 OK")
	}
	write("220 fake.test ESMTP lenient")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		// Input that came with or behind the command, before its reply:
		// a server without PIPELINING gives up.
		if !s.cfg.pipelining && r.Buffered() > 0 {
			s.mu.Lock()
			s.early++
			s.mu.Unlock()
			write("554 5.5.0 pipelining not supported")
			return
		}
		verb, _, _ := strings.Cut(strings.ToUpper(strings.TrimRight(line, "\r\n")), " ")
		switch verb {
		case "EHLO":
			exts := []string{"fake.test", "8BITMIME"}
			if s.cfg.pipelining {
				exts = append(exts, "PIPELINING")
			}
			if s.cfg.enhanced {
				exts = append(exts, "ENHANCEDSTATUSCODES")
			}
			for i, e := range exts {
				sep := "-"
				if i == len(exts)-1 {
					sep = " "
				}
				write("250" + sep + e)
			}
		case "QUIT":
			write("221 bye")
			return
		case "DATA":
			write("354 go ahead")
			if s.cfg.rejectBareLF {
				bare, complete := readStrictData(r)
				if !complete {
					return
				}
				if bare {
					write("521 5.5.2 fake.test Error: bare <LF> received")
					return
				}
				ok()
				continue
			}
			if !s.readLenientData(r) {
				return
			}
			if !s.cfg.pipelining && r.Buffered() > 0 {
				s.mu.Lock()
				s.early++
				s.mu.Unlock()
				write("554 5.5.0 pipelining not supported")
				return
			}
			ok()
		case "NOOP":
			if s.cfg.strayBeforeNOOP {
				c.Write([]byte("500 5.5.1 unknown command\r\n250 OK\r\n"))
				continue
			}
			ok()
		case "HELO", "MAIL", "RCPT", "RSET":
			ok()
		case "VRFY":
			write("252 cannot verify")
		default:
			refuse("500", "5.5.1", "unknown command")
		}
	}
}

// readLenientData reads up to "\n.\n" or CRLF.CRLF.
func (s *lenientSMTP) readLenientData(r *bufio.Reader) bool {
	tail := []byte("\r\n")
	for {
		b, err := r.ReadByte()
		if err != nil {
			return false
		}
		tail = append(tail, b)
		if len(tail) > 8 {
			tail = tail[len(tail)-8:]
		}
		if bytes.HasSuffix(tail, []byte("\r\n.\r\n")) || bytes.HasSuffix(tail, []byte("\n.\n")) {
			return true
		}
	}
}

// The sync check after the end of data judges replies out of step: a
// reply more than the commands sent is its subject (DATA ended early and
// the rest ran as commands), never a precondition, even when the extra
// reply comes in one write with NOOP's.
func TestStrayReplyAfterDataFailsTheSyncCheck(t *testing.T) {
	srv := startLenientSMTP(t, lenientConfig{pipelining: true, strayBeforeNOOP: true})
	r := runFake(t, srv, "smtp.data.dot-termination")["smtp.data.dot-termination"]
	if r.Status != Fail {
		t.Errorf("%s (%s), want fail\n%s", r.Status, r.Message, transcriptOf(r))
	}
}

// readStrictData reads up to CRLF.CRLF; bare says a CR or LF not in a
// CRLF pair came before.
func readStrictData(r *bufio.Reader) (bare, ok bool) {
	var prev byte
	tail := []byte("\r\n")
	for {
		b, err := r.ReadByte()
		if err != nil {
			return bare, false
		}
		if b == '\n' && prev != '\r' {
			bare = true
		}
		if b == '\r' {
			if next, _ := r.Peek(1); len(next) == 0 || next[0] != '\n' {
				bare = true
			}
		}
		prev = b
		tail = append(tail, b)
		if len(tail) > 8 {
			tail = tail[len(tail)-8:]
		}
		if bytes.HasSuffix(tail, []byte("\r\n.\r\n")) {
			return bare, true
		}
	}
}

// A server that keeps a false end of data as data, then refuses the
// message at the real end and hangs up (521, as Postfix's
// smtpd_forbid_bare_newline = reject does) runs nothing after the false
// end: every end-of-data check passes, none errors.
func TestRefusalAndCloseAtTheRealEndPasses(t *testing.T) {
	srv := startLenientSMTP(t, lenientConfig{rejectBareLF: true})
	results := runFake(t, srv, "smtp.data.*")
	for _, v := range []string{"smtp.data.bare-lf-dot", "smtp.data.cr-dot-cr", "smtp.data.crlf-dot-lf", "smtp.data.crlf-nul-dot-crlf"} {
		if r := results[v]; r.Status != Pass {
			t.Errorf("%s: %s (%s), want pass\n%s", v, r.Status, r.Message, transcriptOf(r))
		}
	}
}
