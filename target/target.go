// Package target names a mail server to talk to: a URL or host:port parsed
// into protocol, address, implicit TLS and login (ParseTarget), with the
// password hidden wherever the target is shown (Redacted, RedactURL, and its
// JSON form). The conformance checks, the load generator and the agent
// commands all take a Target; it is a leaf package, importing nothing of
// this module, so that none of them depends on another for it.
package target

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Target is a server to check.
type Target struct {
	// Raw is the target as the user gave it.
	Raw string `json:"target"`
	// Protocol is "smtp", "pop3" or "imap".
	Protocol string `json:"protocol"`
	// Addr is host:port.
	Addr string `json:"addr"`
	// ImplicitTLS: the connection starts with TLS (smtps, pop3s, imaps).
	ImplicitTLS bool `json:"implicit_tls"`
	// User and Password come from the URL's userinfo, if any.
	User     string `json:"user,omitempty"`
	Password string `json:"-"`
	// FromPort is set when the protocol was guessed from a bare host:port
	// and must be confirmed by the greeting.
	FromPort bool `json:"-"`
}

// Host is the target's host name, for TLS server names.
func (t Target) Host() string {
	h, _, _ := net.SplitHostPort(t.Addr)
	return h
}

// Redacted is the target as the user gave it, with a password in it
// replaced by "xxxxx".
func (t Target) Redacted() string { return RedactURL(t.Raw) }

// RedactURL hides the password of a target URL (pop3://bob:secret@… becomes
// pop3://bob:xxxxx@…); other strings are returned as they are.
func RedactURL(raw string) string {
	if !strings.Contains(raw, "://") || !strings.Contains(raw, "@") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Unparsable: hide everything between the scheme and the last @.
		scheme, rest, _ := strings.Cut(raw, "://")
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			return scheme + "://xxxxx" + rest[at:]
		}
		return raw
	}
	return u.Redacted()
}

func (t Target) String() string {
	scheme := t.Protocol
	if t.ImplicitTLS {
		scheme += "s"
	}
	return scheme + "://" + t.Addr
}

// schemes maps URL schemes to protocol, implicit TLS and default port.
var schemes = map[string]struct {
	protocol string
	tls      bool
	port     string
}{
	"smtp":  {"smtp", false, "25"},
	"smtps": {"smtp", true, "465"},
	"pop3":  {"pop3", false, "110"},
	"pop3s": {"pop3", true, "995"},
	"imap":  {"imap", false, "143"},
	"imaps": {"imap", true, "993"},
}

// portProtocols guesses the protocol of a bare host:port (confirmed later
// by the greeting).
var portProtocols = map[string]struct {
	protocol string
	tls      bool
}{
	"25": {"smtp", false}, "465": {"smtp", true}, "587": {"smtp", false}, "2525": {"smtp", false},
	"110": {"pop3", false}, "995": {"pop3", true},
	"143": {"imap", false}, "993": {"imap", true},
}

// MarshalJSON writes the target with the password of its URL hidden: the
// JSON result is kept as a CI artifact.
func (t Target) MarshalJSON() ([]byte, error) {
	type fields Target // without this method
	shown := fields(t)
	shown.Raw = t.Redacted()
	return json.Marshal(shown)
}

// ErrBadTarget is wrapped by ParseTarget's errors.
var ErrBadTarget = errors.New("bad target")

// ParseTarget parses "host:port", "smtp://host[:port]", "smtps://…",
// "pop3://user:pass@host…", "pop3s://…", "imap://…" or "imaps://…".
// protocol, when not empty, overrides what the scheme or port says.
func ParseTarget(raw, protocol string) (Target, error) {
	t := Target{Raw: raw}
	// Errors show the target with its password hidden: they end up in
	// CI logs.
	shown := RedactURL(raw)
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // url.Error repeats the whole URL
			}
			if _, rest, _ := strings.Cut(raw, "://"); strings.Contains(rest, "@") {
				// The parser's words quote the part it stumbled on, which
				// may be a piece of the password ("invalid port \":pa\""
				// for pa/ss).
				err = errors.New("not a valid URL (a user name or password holding / ? # % or @ must be percent-encoded)")
			}
			return t, fmt.Errorf("%w %q: %v", ErrBadTarget, shown, err)
		}
		s, ok := schemes[strings.ToLower(u.Scheme)]
		if !ok {
			return t, fmt.Errorf("%w %q: unknown scheme %q (want smtp, smtps, pop3, pop3s, imap or imaps)", ErrBadTarget, shown, u.Scheme)
		}
		if u.Host == "" {
			return t, fmt.Errorf("%w %q: no host", ErrBadTarget, shown)
		}
		t.Protocol, t.ImplicitTLS = s.protocol, s.tls
		t.Addr = u.Host
		if u.Port() == "" {
			t.Addr = net.JoinHostPort(u.Hostname(), s.port)
		}
		if u.User != nil {
			t.User = u.User.Username()
			t.Password, _ = u.User.Password()
		}
	} else {
		host, port, err := net.SplitHostPort(raw)
		if err != nil || host == "" {
			return t, fmt.Errorf("%w %q: want host:port or a URL such as smtp://host:25", ErrBadTarget, shown)
		}
		t.Addr = raw
		if p, ok := portProtocols[port]; ok {
			t.Protocol, t.ImplicitTLS, t.FromPort = p.protocol, p.tls, true
		}
	}
	if n, err := strconv.Atoi(portOf(t.Addr)); err != nil || n < 1 || n > 65535 {
		return t, fmt.Errorf("%w %q: bad port (want 1-65535)", ErrBadTarget, shown)
	}
	if protocol != "" {
		switch protocol {
		case "smtp", "pop3", "imap":
			t.Protocol, t.FromPort = protocol, false
		default:
			return t, fmt.Errorf("%w: --protocol %q: want smtp, pop3 or imap", ErrBadTarget, protocol)
		}
	}
	if t.Protocol == "" {
		return t, fmt.Errorf("%w %q: cannot tell the protocol from port %s; use a URL (smtp://, pop3://, imap://) or --protocol", ErrBadTarget, shown, portOf(t.Addr))
	}
	return t, nil
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// ProtocolOfGreeting tells the protocol from a server's first line: "220"
// for SMTP (RFC 5321 §4.2), "+OK" for POP3 (RFC 1939 §4), "* OK" or
// "* PREAUTH" for IMAP (RFC 9051 §7.1).
func ProtocolOfGreeting(line string) string {
	switch {
	case strings.HasPrefix(line, "220"):
		return "smtp"
	case strings.HasPrefix(line, "+OK"):
		return "pop3"
	case strings.HasPrefix(line, "* OK") || strings.HasPrefix(line, "* PREAUTH"):
		return "imap"
	}
	return ""
}
