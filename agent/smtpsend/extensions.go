package smtpsend

import (
	"strings"

	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// extensions are the EHLO keywords a server offers (RFC 5321 §4.1.1.1),
// upper case, with their parameters.
type extensions map[string][]string

// parseExtensions reads the EHLO reply: its first line is the server's
// name, each further line a keyword and parameters. The pre-standard
// "AUTH=PLAIN LOGIN" form some servers still send counts as AUTH.
func parseExtensions(r *smtpreply.Reply) extensions {
	ext := extensions{}
	for _, line := range r.Lines[1:] {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		kw := strings.ToUpper(fields[0])
		params := fields[1:]
		if rest, ok := strings.CutPrefix(kw, "AUTH="); ok {
			kw, params = "AUTH", append([]string{rest}, params...)
		}
		ext[kw] = append(ext[kw], params...)
	}
	return ext
}

func (e extensions) has(kw string) bool {
	_, ok := e[kw]
	return ok
}
