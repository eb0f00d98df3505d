package pop3suite

import (
	"fmt"
	"strings"

	"github.com/mailcheck/mailcheck/pop3/pop3client"
)

// A POP3 single-line response, read against its grammar: RFC 1939 §3 (the
// status indicator) and RFC 2449 §8 and §9 (the response code):
//
//	single-line = status [SP text] CRLF        ; 512 octets maximum
//	status      = "+OK" / "-ERR"
//	text        = *schar / resp-code *CHAR
//	resp-code   = "[" resp-level *("/" resp-level) "]"
//	resp-level  = 1*rchar
//	rchar       = %x21-2E / %x30-5C / %x5E-7F  ; printable ASCII, excluding "/" and "]"
//	schar       = %x21-5A / %x5C-7F            ; printable ASCII, excluding "["

// reply is one status line.
type reply struct {
	line string   // as read, without its CRLF
	ok   bool     // "+OK"; "-ERR" otherwise
	code respCode // the response code the text begins with; nil when none
	text string   // the text after the status indicator (and the code)
}

// respCode is a response code's levels: [SYS/TEMP] is {"SYS", "TEMP"}.
type respCode pop3client.RespCode

func (c respCode) String() string { return pop3client.RespCode(c).String() }

// is reports whether the code is name or below it in the hierarchy
// (RFC 2449 §8: "SYS/TEMP" is a kind of "SYS").
func (c respCode) is(name string) bool { return pop3client.RespCode(c).Is(name) }

// registeredCodes are the response codes of the IANA POP3 registry:
// LOGIN-DELAY and IN-USE (RFC 2449 §8.1), SYS and AUTH (RFC 3206), UTF8
// (RFC 6856).
var registeredCodes = []string{"LOGIN-DELAY", "IN-USE", "SYS", "AUTH", "UTF8"}

// grammarError says which rule a line breaks, quoting both.
type grammarError struct {
	line string
	rule string
}

func (e *grammarError) Error() string { return fmt.Sprintf("%q breaks %s", e.line, e.rule) }

const (
	ruleStatus = `RFC 1939 §3: a response begins with a status indicator, "+OK" or "-ERR" in upper case, then a space or the line's end`
	ruleLength = "RFC 1939 §3 and RFC 2449 §9: a response line is at most 512 octets with its CRLF"
	ruleCode   = `RFC 2449 §8: resp-code = "[" resp-level *("/" resp-level) "]", resp-level = 1*rchar (printable ASCII but "/" and "]")`
	ruleCodeAt = `RFC 2449 §8 and §9: a response code stands right after the status indicator and its space (text = *schar / resp-code *CHAR); after the text it is no code`
)

// parseReply reads a status line (without its CRLF) with the POP3
// client core's grammar. An error is a *grammarError for a line that has
// no valid status indicator. A response code that breaks its rules is not
// an error here (the status still reads); codeProblem reports it.
func parseReply(line string) (reply, error) {
	st, err := pop3client.ParseStatus(line)
	r := reply{line: st.Line, ok: st.OK, code: respCode(st.Code), text: st.Text}
	if err != nil {
		return reply{line: line}, &grammarError{line, ruleStatus}
	}
	return r, nil
}

// codeProblem reports how the line breaks the response-code rules: a text
// that begins with "[" but no well-formed code, a registered code standing
// after the text ("-ERR maildrop locked [IN-USE]"), or a line over 512
// octets. It applies to servers that announce RESP-CODES (RFC 2449 §6.4:
// then any text beginning with "[" is a response code).
func (r reply) codeProblem() error {
	if len(r.line)+2 > 512 {
		return &grammarError{r.line, ruleLength}
	}
	if r.code == nil && strings.HasPrefix(r.text, "[") {
		return &grammarError{r.line, ruleCode}
	}
	if misplaced := misplacedCode(r.text); misplaced != "" {
		return &grammarError{r.line, ruleCodeAt + " (" + misplaced + ")"}
	}
	return nil
}

// misplacedCode finds a registered response code inside the text, where
// schar excludes "[": "" when there is none.
func misplacedCode(text string) string {
	for i := 1; i < len(text); i++ {
		if text[i] != '[' {
			continue
		}
		if code, _, ok := pop3client.CutRespCode(text[i:]); ok {
			for _, name := range registeredCodes {
				if code.Is(name) {
					return code.String()
				}
			}
		}
	}
	return ""
}
