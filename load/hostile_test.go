package load

import (
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/leakcheck"
	"github.com/mailcheck/mailcheck/internal/smtptest"
)

// TestHostileServers runs the generator against servers that misbehave on
// purpose, at each step of a session: it must end on time (the duration,
// then at most a few timeouts for what is in flight: a bound that only a
// hang breaks), count every message failed under the class that names the
// misbehaviour, hold a bounded heap while the server streams hundreds of
// megabytes, and leave no goroutine behind.
func TestHostileServers(t *testing.T) {
	on := func(verb string, how smtptest.Hangup) smtptest.HangupFunc {
		return func(v, _ string) smtptest.Hangup {
			if v == verb {
				return how
			}
			return smtptest.HangupNone
		}
	}
	const malformed = "protocol malformed reply"
	cases := []struct {
		name       string
		hangup     smtptest.HangupFunc
		lineLength int
		// sessions: many where each holding a whole reply would add up.
		sessions int
		// afterEHLO: the session is past EHLO, where pipelining changes
		// the code path; earlier steps run once.
		afterEHLO bool
		// class is the one error class every failure must be counted in;
		// sample is in its example.
		class, sample string
	}{
		{"never answers", on("GREETING", smtptest.HangupSilent), 0, 4, false, "greeting network timeout", "timeout"},
		{"endless greeting line", on("GREETING", smtptest.HangupEndlessLine), 0, 4, false, "greeting " + malformed, "line longer than"},
		{"million-line greeting", on("GREETING", smtptest.HangupFlood), 0, 4, false, "greeting " + malformed, "more than 1000 lines"},
		{"long-line greeting", on("GREETING", smtptest.HangupFlood), 4000, 32, false, "greeting " + malformed, "more than 65536 octets"},
		{"greeting cut mid-reply", on("GREETING", smtptest.HangupMidReply), 0, 4, false, "greeting network closed", "EOF"},
		{"garbage greeting", on("GREETING", smtptest.HangupGarbage), 0, 4, false, "greeting " + malformed, "HTTP/1.0"},
		{"million-line EHLO reply", on("EHLO", smtptest.HangupFlood), 0, 4, false, "ehlo " + malformed, "more than 1000 lines"},
		{"endless EHLO line", on("EHLO", smtptest.HangupEndlessLine), 0, 4, false, "ehlo " + malformed, "line longer than"},
		{"MAIL never answered", on("MAIL", smtptest.HangupSilent), 0, 4, true, "mail network timeout", "timeout"},
		{"garbage to RCPT", on("RCPT", smtptest.HangupGarbage), 0, 4, true, "rcpt " + malformed, "HTTP/1.0"},
		{"million-line RCPT reply", on("RCPT", smtptest.HangupFlood), 0, 4, true, "rcpt " + malformed, "more than 1000 lines"},
		{"DATA cut mid-reply", on("DATA", smtptest.HangupMidReply), 0, 4, true, "data network closed", "EOF"},
		{"stalls on DATA", on("DATA", smtptest.HangupSilent), 0, 4, true, "data network timeout", "timeout"},
		{"stalls after the data", on(".", smtptest.HangupSilent), 0, 4, true, "end_of_data network timeout", "timeout"},
		{"endless line after the data", on(".", smtptest.HangupEndlessLine), 0, 4, true, "end_of_data " + malformed, "line longer than"},
		{"million lines after the data", on(".", smtptest.HangupFlood), 0, 4, true, "end_of_data " + malformed, "more than 1000 lines"},
		{"long lines after the data", on(".", smtptest.HangupFlood), 4000, 32, true, "end_of_data " + malformed, "more than 65536 octets"},
	}
	for _, pipelining := range []Pipelining{PipeliningOff, PipeliningOn} {
		for _, tc := range cases {
			t.Run(string(pipelining)+"/"+tc.name, func(t *testing.T) {
				if pipelining == PipeliningOn && !tc.afterEHLO {
					t.Skip("before MAIL, pipelining changes nothing")
				}
				leakcheck.Check(t)
				srv := smtptest.Start(t, smtptest.Config{
					Extensions: []string{"PIPELINING"}, Hangup: tc.hangup, Timeout: 5 * time.Second,
					FloodOctets: 200 << 20, FloodLineLength: tc.lineLength,
				})
				o := Options{Target: targetOf(t, srv.Addr()), Sessions: tc.sessions, Duration: time.Second, Timeout: 300 * time.Millisecond,
					Pipelining: pipelining, To: "load@example.test", StartTLS: "off", Size: SizeSpec{300, 300}}
				var res *Result
				grown := leakcheck.HeapGrowth(func() {
					res = runBounded(t, o, o.Duration+3*o.Timeout+5*time.Second, nil, nil)
				})
				t.Logf("sent %d failed %d; errors %+v; heap grew %.1f MB while the server flooded %.1f MB",
					res.Sent, res.Failed, res.Errors, float64(grown)/(1<<20), float64(srv.Flooded())/(1<<20))
				if grown > 64<<20 {
					t.Errorf("the heap grew %.1f MB, over 64 MB", float64(grown)/(1<<20))
				}
				if res.Accepted != 0 || res.Failed == 0 {
					t.Errorf("accepted %d, failed %d: every message must fail", res.Accepted, res.Failed)
				}
				counted := false
				for _, e := range res.Errors {
					switch {
					case e.Class == tc.class && strings.Contains(e.Example, tc.sample):
						counted = true
					case e.Class == "connect network timeout":
						// Each failure ends its connection and the session
						// reconnects at once (thousands of times a second
						// here); with the fake flooding on every one, its
						// accept loop can fall behind. That is the test
						// server's limit, not a misbehaviour.
					default:
						t.Errorf("error class %q (%d, e.g. %q), want %q with %q", e.Class, e.Count, e.Example, tc.class, tc.sample)
					}
				}
				if !counted {
					t.Errorf("no failure counted as %q: %+v", tc.class, res.Errors)
				}
			})
		}
	}
}
