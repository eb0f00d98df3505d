package main

import (
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/leakcheck"
	"github.com/mailcheck/mailcheck/internal/smtptest"
)

// hostileSMTP is a scripted SMTP server that misbehaves (how) on verb.
func hostileSMTP(t *testing.T, verb string, how smtptest.Hangup) string {
	t.Helper()
	srv := smtptest.Start(t, smtptest.Config{
		Hangup: func(v, _ string) smtptest.Hangup {
			if v == verb {
				return how
			}
			return smtptest.HangupNone
		},
		Timeout: 10 * time.Second, FloodOctets: 64 << 20,
	})
	return "smtp://" + srv.Addr()
}

// TestCommandsAgainstHostileServers: conform and load against servers that
// misbehave end with the documented exit code and an error that says what
// went wrong, leaving nothing running.
func TestCommandsAgainstHostileServers(t *testing.T) {
	cases := []struct {
		name string
		args func(t *testing.T) []string
		code int
		want string
	}{
		{"conform, never greets", func(t *testing.T) []string {
			return []string{"conform", hostileSMTP(t, "GREETING", smtptest.HangupSilent), "--timeout", "2s", "--read-timeout", "2s"}
		}, exitCannotRun, "no greeting"},
		{"conform, greeting without end", func(t *testing.T) []string {
			return []string{"conform", hostileSMTP(t, "GREETING", smtptest.HangupEndlessLine), "--timeout", "2s"}
		}, exitCannotRun, "longer than 4096 octets"},
		{"conform, a million-line EHLO reply", func(t *testing.T) []string {
			return []string{"conform", hostileSMTP(t, "EHLO", smtptest.HangupFlood), "--timeout", "2s", "--only", "smtp.ehlo.*"}
		}, exitFailure, "more than 1000 lines"},
		{"load, garbage greeting", func(t *testing.T) []string {
			return []string{"load", hostileSMTP(t, "GREETING", smtptest.HangupGarbage), "--duration", "1s", "--timeout", "300ms", "-q",
				"--to", "bob@example.test", "--starttls", "off"}
		}, exitCannotRun, "greeting protocol malformed reply"},
		{"load, stalls after the data", func(t *testing.T) []string {
			return []string{"load", hostileSMTP(t, ".", smtptest.HangupSilent), "--duration", "1s", "--timeout", "300ms", "-q",
				"--to", "bob@example.test", "--starttls", "off", "--threshold", "errors<1"}
		}, exitFailure, "end_of_data network timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leakcheck.Check(t)
			args := tc.args(t)
			out, err := runGuarded(t, args...)
			text := out
			if err != nil {
				text += "\n" + err.Error()
			}
			if exitCode(err) != tc.code || !strings.Contains(text, tc.want) {
				t.Errorf("exit %d (%v), want %d and %q in:\n%s", exitCode(err), err, tc.code, tc.want, out)
			}
		})
	}
}
