package faultimap

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/internal/faultproxy"
)

// The faults below touch only responses that carry a keyword of the
// concurrency checks' sessions ($MailcheckS1…): the rest of the suite
// sees a correct server, as a server whose session views go wrong only
// under concurrent changes shows it.

var (
	concurrencyKeyword = regexp.MustCompile(`\$MailcheckS\d`)
	fetchNumber        = regexp.MustCompile(`^\* (\d+) FETCH `)
)

// renumberEvery is how often FetchRenumbered renumbers: rarely enough
// that the run is under way, often enough that a run of a second meets it.
const renumberEvery = 16

// FetchRenumbered gives every renumberEvery-th FETCH response carrying a
// concurrency keyword the next message's sequence number, as go-imap's
// session tracker did (`FETCH 19` answered `* 20 FETCH (UID 86 …)`)
// (imap.concurrency.sequence).
var FetchRenumbered = &faultproxy.Fault{PerConn: func() *faultproxy.Fault {
	seen := 0 // the proxy reads a connection's server side in one goroutine
	return &faultproxy.Fault{Server: func(_ int, line string) []string {
		m := fetchNumber.FindStringSubmatch(line)
		if m == nil || !concurrencyKeyword.MatchString(line) {
			return []string{line}
		}
		if seen++; seen%renumberEvery != 0 {
			return []string{line}
		}
		n, _ := strconv.Atoi(m[1])
		return []string{"* " + strconv.Itoa(n+1) + " FETCH " + line[len(m[0]):]}
	}}
}}

// KeywordsUnannounced drops the untagged FLAGS responses that announce a
// concurrency keyword, so FETCH uses keywords the session was never told
// of (imap.concurrency.flags).
var KeywordsUnannounced = &faultproxy.Fault{Server: func(_ int, line string) []string {
	if strings.HasPrefix(line, "* FLAGS ") && concurrencyKeyword.MatchString(line) {
		return nil
	}
	return []string{line}
}}
