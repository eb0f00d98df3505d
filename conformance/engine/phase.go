package engine

import (
	"bytes"
	"strings"
	"time"
)

// Phase is what a wait for the server is part of; each phase has its own
// read timeout. A slow server is waited for as long as the RFCs tell a
// client to wait, not called broken: only a wait past these limits is an
// Error.
//
// The SMTP limits are RFC 5321 §4.5.3.2's ("the minimum per-command
// timeout values SHOULD be as follows"): the initial 220 message 5
// minutes, MAIL 5 minutes, RCPT 5 minutes, DATA initiation ("awaiting the
// 354 Start Input reply") 2 minutes, each data block ("awaiting the
// completion of each TCP SEND call") 3 minutes, DATA termination
// ("awaiting the 250 OK reply") 10 minutes. The RFC gives no value for
// other commands (EHLO, NOOP, RSET, …); they get 5 minutes, the time an
// SMTP server itself waits for the next command (§4.5.3.2.7).
//
// POP3 (RFC 1939) and IMAP (RFC 9051) give a client no timeout. Their
// greetings and replies get the same 5 minutes as SMTP's: well inside the
// servers' autologout timers (POP3 at least 10 minutes, RFC 1939 §3;
// IMAP at least 30 minutes, RFC 9051 §5.4), so the server has not given
// up on the session while the client still waits for it, and long enough
// for a server under load (the slowest seen in practice answered in
// seconds).
type Phase int

// Phases.
const (
	// PhaseCommand waits for the reply to a command without a phase of its
	// own (every POP3 and IMAP command).
	PhaseCommand Phase = iota
	// PhaseGreeting waits for the connection and the server's greeting.
	PhaseGreeting
	// PhaseMail waits for the reply to SMTP MAIL.
	PhaseMail
	// PhaseRcpt waits for the reply to SMTP RCPT.
	PhaseRcpt
	// PhaseDataInit waits for the 354 reply to SMTP DATA.
	PhaseDataInit
	// PhaseDataBlock bounds each write of message content.
	PhaseDataBlock
	// PhaseDataEnd waits for the reply to the end of the message data
	// (CRLF.CRLF, or SMTP BDAT, RFC 3030, which ends data the same way).
	PhaseDataEnd
)

// phaseTimeouts are the defaults (see Phase for the RFCs' words).
var phaseTimeouts = map[Phase]time.Duration{
	PhaseCommand:   5 * time.Minute,
	PhaseGreeting:  5 * time.Minute,  // RFC 5321 §4.5.3.2.1
	PhaseMail:      5 * time.Minute,  // RFC 5321 §4.5.3.2.2
	PhaseRcpt:      5 * time.Minute,  // RFC 5321 §4.5.3.2.3
	PhaseDataInit:  2 * time.Minute,  // RFC 5321 §4.5.3.2.4
	PhaseDataBlock: 3 * time.Minute,  // RFC 5321 §4.5.3.2.5
	PhaseDataEnd:   10 * time.Minute, // RFC 5321 §4.5.3.2.6
}

// DefaultPhaseTimeout is a phase's read timeout when Options.ReadTimeout
// does not override it.
func DefaultPhaseTimeout(p Phase) time.Duration { return phaseTimeouts[p] }

// DefaultCheckTimeout bounds a check when Options.Timeout is zero: it fits
// a greeting (5 minutes) and the longest single wait, the end of data (10
// minutes). A check waits on several phases; a server slow to their limits
// at every step is not one a check can wait out, and ends as Error.
const DefaultCheckTimeout = 15 * time.Minute

// PhaseTimeout is how long a wait in phase p lasts: Options.ReadTimeout
// when set (an override for every phase), else p's default.
func (o *Options) PhaseTimeout(p Phase) time.Duration {
	if o.ReadTimeout > 0 {
		return o.ReadTimeout
	}
	return DefaultPhaseTimeout(p)
}

// waitFor is the phase and the name of what the next read waits for,
// after the client wrote b: the last command line in b says it (SMTP
// MAIL, RCPT, DATA; the terminating CRLF.CRLF of message data). The name
// is for the evidence: "reply to EHLO", "end of data".
func waitFor(protocol string, b []byte) (Phase, string) {
	if protocol == "smtp" && (bytes.HasSuffix(b, []byte("\r\n.\r\n")) || bytes.Equal(b, []byte(".\r\n"))) {
		return PhaseDataEnd, "end of data"
	}
	verb := lastVerb(protocol, b)
	if verb == "" || protocol == "smtp" && !smtpVerbs[verb] {
		// Message content, a SASL response, a literal: no command.
		return PhaseCommand, "reply"
	}
	name := "reply to " + verb
	if protocol != "smtp" {
		return PhaseCommand, name
	}
	switch verb {
	case "MAIL":
		return PhaseMail, name
	case "RCPT":
		return PhaseRcpt, name
	case "DATA":
		return PhaseDataInit, name
	case "BDAT":
		return PhaseDataEnd, name
	}
	return PhaseCommand, name
}

// smtpVerbs are the commands of RFC 5321 §4.1 and its extensions the
// suites send; any other line the client writes is message content or a
// SASL response.
var smtpVerbs = map[string]bool{
	"EHLO": true, "HELO": true, "MAIL": true, "RCPT": true, "DATA": true, "BDAT": true,
	"RSET": true, "VRFY": true, "EXPN": true, "HELP": true, "NOOP": true, "QUIT": true,
	"STARTTLS": true, "AUTH": true,
}

// lastVerb is the command verb of the last line in b (for IMAP the word
// after the tag), upper case, or "" when that line is no command (message
// content, a literal, a SASL response).
func lastVerb(protocol string, b []byte) string {
	b = bytes.TrimRight(b, "\r\n")
	if i := bytes.LastIndexAny(b, "\r\n"); i >= 0 {
		b = b[i+1:]
	}
	words := strings.Fields(string(b))
	if protocol == "imap" && len(words) > 0 {
		words = words[1:]
	}
	if len(words) == 0 || len(words[0]) > 12 {
		return ""
	}
	for _, c := range words[0] {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return ""
		}
	}
	return strings.ToUpper(words[0])
}
