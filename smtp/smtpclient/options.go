package smtpclient

import (
	"crypto/tls"
	"time"

	"github.com/mailcheck/mailcheck/bounds"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// DefaultTimeout bounds each read and write when Options.Timeout is zero.
// RFC 5321 §4.5.3.2 suggests minutes per command; a client that judges or
// loads a server gives up sooner.
const DefaultTimeout = 30 * time.Second

// Options configure a Client.
type Options struct {
	// Timeout bounds the connect and each read and write on a connection
	// the client made or wraps (Dial, DialTLS, New); a Link of the
	// caller's bounds its own waits. Zero means DefaultTimeout.
	Timeout time.Duration
	// TLSConfig is used for STARTTLS and implicit TLS on a connection the
	// client made or wraps; ServerName defaults to Host. Nil verifies
	// against the system roots.
	TLSConfig *tls.Config
	// Host is the server's name for TLS when TLSConfig names none.
	Host string
	// Limits bounds what is read from the server: Line (the read buffer
	// of a wrapped connection), ReplyLines and ReplyOctets per reply,
	// Total per connection. Zero fields take bounds.Default's.
	Limits bounds.Policy
	// LMTP says LHLO instead of EHLO (RFC 2033 §4.1).
	LMTP bool
	// HELOFallback says HELO when the server does not know EHLO (a 500 or
	// 502 to it, RFC 5321 §3.2); the session then has no extensions.
	HELOFallback bool
	// ReadReply, when set, reads every reply instead of the core's
	// reader: for a caller that judges the replies' grammar itself (the
	// conformance suite reads a flawed reply leniently and notes the
	// flaw). It reads from the same Link and keeps its own transcript.
	ReadReply func() (*smtpreply.Reply, error)
	// Transcript, when set, receives every write and every reply line.
	Transcript func(e Event, b []byte)
	// Timing, when set, receives how long each phase took that succeeded.
	Timing func(p Phase, d time.Duration)
}

// Event says what a Transcript hook is given.
type Event int

const (
	// Sent is a write of command lines, exactly as sent (CRLFs included;
	// a pipelined group is one write).
	Sent Event = iota
	// SentData is message data as sent, dot-stuffed, in one or more
	// writes before SentDataEnd.
	SentData
	// SentDataEnd is the end of the message data, ".\r\n".
	SentDataEnd
	// Received is one reply line, without its line end.
	Received
)

// Phase names a step of a session for the Timing hook.
type Phase string

// The phases timed: each from its command's write (the connect from the
// dial, the greeting from the connection) to its successful reply.
const (
	PhaseConnect  Phase = "connect"
	PhaseGreeting Phase = "greeting"
	PhaseEHLO     Phase = "ehlo"
	PhaseSTARTTLS Phase = "starttls" // STARTTLS and the TLS handshake
	PhaseAuth     Phase = "auth"
	PhaseMail     Phase = "mail"
	PhaseRcpt     Phase = "rcpt"
	PhaseData     Phase = "data"     // DATA up to the 354
	PhaseDataEnd  Phase = "data-end" // the message up to the final reply
	PhaseQuit     Phase = "quit"
)
