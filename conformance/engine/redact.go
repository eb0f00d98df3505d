package engine

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
)

// Reports are CI artifacts that many people and tools read: no password
// or SASL secret may reach one. Redaction happens where the evidence is
// made, in two layers:
//
//   - credentialRedactor reads each client line of a transcript as the
//     protocols define their credential-carrying commands and hides the
//     secret while keeping the command: "PASS <redacted 10 octets>", "a1
//     LOGIN "bob" <redacted 12 octets>", "AUTH PLAIN <redacted 20
//     octets>" and SASL responses (RFC 4954 §4, RFC 1734, RFC 5034, RFC
//     9051 §6.2.2), APOP digests (RFC 1939 §7). It needs no knowledge of
//     the secrets.
//   - secretScrubber knows the passwords of the run (the targets', the
//     read-back's, the seed's, --password) and removes them, and base64
//     that decodes to text holding one, from messages and transcript
//     lines that escaped the first layer (a message quoting the command
//     it sent, an error naming a failed command).
//
// A Target's JSON form shows its URL with the password hidden (package
// target).

// credentialRedactor hides the credentials in the client lines of one
// transcript. It follows SASL exchanges across lines: after AUTH or
// AUTHENTICATE, client lines are SASL responses until the server answers
// with something other than a continuation request.
type credentialRedactor struct {
	exchange exchange
}

// exchange is what the client lines in progress carry.
type exchange int

const (
	noExchange   exchange = iota
	saslExchange          // SASL responses, base64 (RFC 4422)
	loginLiteral          // the literals of an IMAP LOGIN
)

// line returns the line as the transcript may show it.
func (r *credentialRedactor) line(dir Direction, line []byte) []byte {
	switch dir {
	case DirServer:
		if r.exchange != noExchange && !continuation(line) && !bytes.HasPrefix(line, []byte("* ")) {
			r.exchange = noExchange
		}
		return line
	case DirClient:
		return r.clientLine(line)
	}
	return line
}

// continuation reports whether a server line asks the client for more: an
// SMTP 334 (RFC 4954 §4), a POP3 or IMAP "+" that is not "+OK" (RFC 5034
// §4, RFC 9051 §7.5).
func continuation(line []byte) bool {
	if bytes.HasPrefix(line, []byte("334")) {
		return true
	}
	rest, ok := bytes.CutPrefix(line, []byte("+"))
	return ok && (len(rest) == 0 || rest[0] == ' ' || rest[0] == '\r' || rest[0] == '\n')
}

func (r *credentialRedactor) clientLine(line []byte) []byte {
	body, end := splitLineEnd(line)
	switch {
	case r.exchange == saslExchange && secretBearingResponse(body):
		return joinLine("<redacted SASL response, "+octets(len(body))+">", end)
	case r.exchange == loginLiteral && len(body) > 0:
		return joinLine("<redacted LOGIN argument, "+octets(len(body))+">", end)
	case r.exchange != noExchange:
		return line
	}
	words := strings.Fields(string(body))
	verb := func(i int) string {
		if i < len(words) {
			return strings.ToUpper(words[i])
		}
		return ""
	}
	switch {
	case verb(0) == "AUTH" && len(words) >= 2: // SMTP, POP3: AUTH mechanism [initial-response]
		r.exchange = saslExchange
		return keepWords(body, 2, end, secretBearingResponse)
	case verb(1) == "AUTHENTICATE" && len(words) >= 3: // IMAP: tag AUTHENTICATE mechanism [initial-response]
		r.exchange = saslExchange
		return keepWords(body, 3, end, secretBearingResponse)
	case verb(0) == "PASS" && len(words) >= 2: // POP3 PASS string (RFC 1939 §7)
		return keepWords(body, 1, end, always)
	case verb(0) == "APOP" && len(words) >= 3: // POP3 APOP name digest
		return keepWords(body, 2, end, always)
	case verb(1) == "LOGIN" && len(words) >= 3: // IMAP tag LOGIN userid password
		return r.imapLogin(body, end)
	}
	return line
}

// imapLogin keeps the tag, LOGIN and the user name, and hides the
// password. A literal ({n}) sends the rest on later lines: everything
// after LOGIN is hidden, and so are the lines that follow until the
// server's final answer.
func (r *credentialRedactor) imapLogin(body, end []byte) []byte {
	if bytes.ContainsRune(body, '{') {
		r.exchange = loginLiteral
		return keepWords(body, 2, end, always)
	}
	// The user name is kept when the line has the plain form "tag LOGIN
	// userid password"; anything else hides all after LOGIN.
	argsAt := bytes.IndexByte(body, ' ') + 1 + len("LOGIN ")
	if argsAt > len(body) || !bytes.EqualFold(body[argsAt-len("LOGIN "):argsAt], []byte("LOGIN ")) {
		return keepWords(body, 2, end, always)
	}
	userLen := astringLen(body[argsAt:])
	kept := argsAt + userLen
	if userLen <= 0 || kept+1 >= len(body) || body[kept] != ' ' {
		return keepWords(body, 2, end, always)
	}
	return joinLine(string(body[:kept+1])+"<redacted "+octets(len(body)-kept-1)+">", end)
}

// astringLen is the length of the IMAP astring (atom or quoted string,
// RFC 9051 §9) at the start of s, or -1.
func astringLen(s []byte) int {
	if len(s) == 0 {
		return -1
	}
	if s[0] != '"' {
		if i := bytes.IndexByte(s, ' '); i > 0 {
			return i
		}
		return -1
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// keepWords keeps the first n space-separated words of body and hides
// the rest when hide says it may carry a secret.
func keepWords(body []byte, n int, end []byte, hide func([]byte) bool) []byte {
	i := 0
	for k := 0; k < n; k++ {
		j := bytes.IndexByte(body[i:], ' ')
		if j < 0 {
			return joinLine(string(body), end)
		}
		i += j + 1
	}
	rest := body[i:]
	if !hide(bytes.TrimSpace(rest)) {
		return joinLine(string(body), end)
	}
	return joinLine(string(body[:i])+"<redacted "+octets(len(rest))+">", end)
}

func always([]byte) bool { return true }

// secretBearingResponse reports whether a SASL response may carry a
// secret: "*" (cancel) and "=" (empty) do not, and neither does text that
// is not base64, which a server must refuse (RFC 4954 §4) and the
// evidence of that refusal needs.
func secretBearingResponse(b []byte) bool {
	s := string(bytes.TrimSpace(b))
	if s == "" || s == "*" || s == "=" {
		return false
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
}

func splitLineEnd(line []byte) (body, end []byte) {
	body = bytes.TrimRight(line, "\r\n")
	return body, line[len(body):]
}

func joinLine(body string, end []byte) []byte { return append([]byte(body), end...) }

func octets(n int) string {
	if n == 1 {
		return "1 octet"
	}
	return strconv.Itoa(n) + " octets"
}

// secretScrubber removes known passwords from report text.
type secretScrubber struct {
	// forms are the ways a password may be written in a report: as is,
	// escaped as a transcript or %q writes it, quoted as IMAP does.
	forms []string
	// passwords, to look for in decoded base64.
	passwords []string
}

// minSecretLen: shorter "passwords" are no secret, and replacing every
// occurrence of one or two letters would wreck the evidence. The
// credential redactor hides them on the wire all the same.
const minSecretLen = 3

// newSecretScrubber collects the passwords a check may send.
func newSecretScrubber(t *T) *secretScrubber {
	s := &secretScrubber{}
	add := func(p string) {
		if len(p) < minSecretLen {
			return
		}
		s.passwords = append(s.passwords, p)
		quoted, ascii := strconv.Quote(p), strconv.QuoteToASCII(p)
		imapQuoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p)
		for _, f := range []string{p, EscapeLine([]byte(p)), quoted[1 : len(quoted)-1], ascii[1 : len(ascii)-1], imapQuoted} {
			if !contains(s.forms, f) {
				s.forms = append(s.forms, f)
			}
		}
	}
	add(t.Target.Password)
	if o := t.Options; o != nil {
		add(o.Password)
		for _, other := range []*Target{o.Readback, o.Seed} {
			if other != nil {
				add(other.Password)
			}
		}
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

const redactedSecret = "<redacted>"

// scrub returns text without the passwords, in clear or in base64.
func (s *secretScrubber) scrub(text string) string {
	if len(s.passwords) == 0 {
		return text
	}
	for _, f := range s.forms {
		text = strings.ReplaceAll(text, f, redactedSecret)
	}
	return s.scrubBase64(text)
}

// scrubBase64 replaces each run of base64 characters that decodes to
// something holding a password (AUTH PLAIN's "\0user\0password", AUTH
// LOGIN's password alone).
func (s *secretScrubber) scrubBase64(text string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(text); {
		if !isBase64Char(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isBase64Char(text[j]) {
			j++
		}
		if s.decodesToSecret(text[i:j]) {
			b.WriteString(text[last:i])
			b.WriteString(redactedSecret)
			last = j
		}
		i = j
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

func isBase64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '='
}

func (s *secretScrubber) decodesToSecret(run string) bool {
	if len(run) < 4 {
		return false
	}
	decoded, err := base64.StdEncoding.DecodeString(run)
	if err != nil {
		if decoded, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(run, "=")); err != nil {
			return false
		}
	}
	for _, p := range s.passwords {
		if strings.Contains(string(decoded), p) {
			return true
		}
	}
	return false
}

// scrubResult removes the run's passwords from a result's message and
// transcript.
func (s *secretScrubber) scrubResult(r *Result) {
	if len(s.passwords) == 0 {
		return
	}
	r.Message = s.scrub(r.Message)
	for i := range r.Transcript {
		r.Transcript[i].Text = s.scrub(r.Transcript[i].Text)
	}
}
