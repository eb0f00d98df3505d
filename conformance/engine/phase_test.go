package engine

import (
	"testing"
	"time"
)

// TestWaitFor: the phase of a read comes from what was last sent.
func TestWaitFor(t *testing.T) {
	for _, tc := range []struct {
		protocol, sent string
		phase          Phase
		name           string
	}{
		{"smtp", "MAIL FROM:<a@b>\r\n", PhaseMail, "reply to MAIL"},
		{"smtp", "rcpt to:<a@b>\r\n", PhaseRcpt, "reply to RCPT"},
		{"smtp", "DATA\r\n", PhaseDataInit, "reply to DATA"},
		{"smtp", "Subject: x\r\n\r\nbody\r\n.\r\n", PhaseDataEnd, "end of data"},
		{"smtp", ".\r\n", PhaseDataEnd, "end of data"},
		{"smtp", "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n", PhaseDataInit, "reply to DATA"},
		{"smtp", "EHLO x\r\n", PhaseCommand, "reply to EHLO"},
		{"smtp", "body line\r\n", PhaseCommand, "reply"},
		{"smtp", "FOO\r\n", PhaseCommand, "reply"},
		{"smtp", "\x80\x81\r\n", PhaseCommand, "reply"},
		{"pop3", "RETR 1\r\n", PhaseCommand, "reply to RETR"},
		{"imap", "mc3 SELECT INBOX\r\n", PhaseCommand, "reply to SELECT"},
		{"imap", "{5}\r\n", PhaseCommand, "reply"},
	} {
		phase, name := waitFor(tc.protocol, []byte(tc.sent))
		if phase != tc.phase || name != tc.name {
			t.Errorf("%s %q: %v %q, want %v %q", tc.protocol, tc.sent, phase, name, tc.phase, tc.name)
		}
	}
}

// TestPhaseTimeouts: the defaults are RFC 5321 §4.5.3.2's, the check
// timeout fits them, and ReadTimeout overrides every phase.
func TestPhaseTimeouts(t *testing.T) {
	o := Options{}.WithDefaults()
	want := map[Phase]time.Duration{
		PhaseGreeting: 5 * time.Minute, PhaseMail: 5 * time.Minute, PhaseRcpt: 5 * time.Minute,
		PhaseDataInit: 2 * time.Minute, PhaseDataBlock: 3 * time.Minute, PhaseDataEnd: 10 * time.Minute,
		PhaseCommand: 5 * time.Minute,
	}
	for p, d := range want {
		if got := o.PhaseTimeout(p); got != d {
			t.Errorf("phase %v: %v, want %v", p, got, d)
		}
	}
	if o.Timeout < o.PhaseTimeout(PhaseGreeting)+o.PhaseTimeout(PhaseDataEnd) {
		t.Errorf("check timeout %v does not fit a greeting and the end of data", o.Timeout)
	}
	o.ReadTimeout = 300 * time.Millisecond
	for p := range want {
		if got := o.PhaseTimeout(p); got != o.ReadTimeout {
			t.Errorf("phase %v with ReadTimeout set: %v, want %v", p, got, o.ReadTimeout)
		}
	}
}
