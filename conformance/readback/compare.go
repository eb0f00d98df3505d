package readback

import (
	"bytes"
	"fmt"
	"strings"
)

// Compare judges a message read back (got) against the one sent: the body
// must be the same octets, and every header field of the sent message must
// be there unchanged and in the same order. Fields the servers add (trace
// fields at the top, RFC 5321 §4.4, or others anywhere, at the end of the
// header block say) are allowed. It returns "" when the message arrived
// intact, and otherwise what was altered, in a phrase ("it appends \"\\r\\n\"
// to the body").
func Compare(sent, got []byte) string {
	sentHead, sentBody := split(sent)
	gotHead, gotBody, ok := bytes.Cut(got, []byte("\r\n\r\n"))
	if !ok {
		return fmt.Sprintf("the message read back has no empty line ending its header (%d octets read back)", len(got))
	}
	if d := compareHeader(fields(sentHead), fields(append(gotHead, "\r\n"...))); d != "" {
		return d
	}
	return compareBody(sentBody, gotBody)
}

// split cuts a message at the empty line ending its header; the header
// keeps the CRLF of its last line.
func split(msg []byte) (head, body []byte) {
	i := bytes.Index(msg, []byte("\r\n\r\n"))
	if i < 0 {
		return msg, nil
	}
	return msg[:i+2], msg[i+4:]
}

// fields splits a header block into its fields, each with its folded
// continuation lines and CRLFs (RFC 5322 §2.2.3).
func fields(head []byte) []string {
	var out []string
	for _, line := range strings.SplitAfter(string(head), "\r\n") {
		switch {
		case line == "":
		case (line[0] == ' ' || line[0] == '\t') && len(out) > 0:
			out[len(out)-1] += line
		default:
			out = append(out, line)
		}
	}
	return out
}

// compareHeader requires sent to be a subsequence of got.
func compareHeader(sent, got []string) string {
	j := 0
	for _, f := range got {
		if j < len(sent) && f == sent[j] {
			j++
		}
	}
	if j == len(sent) {
		return ""
	}
	missing := sent[j]
	name := fieldName(missing)
	for _, f := range got {
		if f == missing {
			return fmt.Sprintf("the header field %q is there but out of its place: the original fields were reordered", clip(missing))
		}
	}
	for _, f := range got {
		if strings.EqualFold(fieldName(f), name) {
			return fmt.Sprintf("the header field %q came back as %q", clip(missing), clip(f))
		}
	}
	return fmt.Sprintf("the header field %q is missing", clip(missing))
}

func fieldName(f string) string {
	name, _, _ := strings.Cut(f, ":")
	return name
}

// compareBody requires the same octets, and says how they differ.
func compareBody(sent, got []byte) string {
	switch {
	case bytes.Equal(sent, got):
		return ""
	case bytes.HasPrefix(got, sent):
		return fmt.Sprintf("it appends %q to the body", clip(string(got[len(sent):])))
	case bytes.HasPrefix(sent, got):
		return fmt.Sprintf("it cuts the body short: the last %d octets are missing (%q)", len(sent)-len(got), clip(string(sent[len(got):])))
	}
	sentLines := strings.SplitAfter(string(sent), "\r\n")
	gotLines := strings.SplitAfter(string(got), "\r\n")
	for i := range sentLines {
		if i >= len(gotLines) {
			return fmt.Sprintf("the body ends after line %d of %d", len(gotLines), len(sentLines))
		}
		if sentLines[i] != gotLines[i] {
			return fmt.Sprintf("body line %d was altered: sent %d octets %q, read back %d octets %q",
				i+1, len(sentLines[i]), clip(sentLines[i]), len(gotLines[i]), clip(gotLines[i]))
		}
	}
	return fmt.Sprintf("the body has %d more lines than sent, from %q", len(gotLines)-len(sentLines), clip(gotLines[len(sentLines)]))
}

// clip shortens evidence for a message: the start and the end of a long
// string, with the count of what was left out.
func clip(s string) string {
	const keep = 40
	if len(s) <= 2*keep+20 {
		return s
	}
	return fmt.Sprintf("%s…(%d octets)…%s", s[:keep], len(s)-2*keep, s[len(s)-keep:])
}
